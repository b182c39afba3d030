"""EventBridge as AWS runs it where kura depends on it: TestEventPattern
evaluates a pattern against an event (moto accepts the call and answers
nothing), so that the detective controls' patterns are tested by the service's
own matcher over HTTP, as they would be against AWS.

Reference: Amazon EventBridge API Reference, TestEventPattern (request
EventPattern and Event, both JSON strings; the event must carry id, account,
source, time, region, resources and detail-type; response {"Result": bool};
errors InvalidEventPatternException, ValidationException).
"""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import EventPattern, EventPatternParser
from moto.events.responses import EventsHandler

from .patch import patch

REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


@patch(EventsHandler, "test_event_pattern")
def test_event_pattern(original: Any, self: EventsHandler) -> Any:
    """TestEventPattern answers whether the event matches the pattern ({"Result": true|false}),
    refusing an invalid pattern (InvalidEventPatternException) and an event without the
    fields AWS requires (ValidationException); moto answers nothing."""
    pattern = EventPatternParser(self._get_param("EventPattern")).parse()
    try:
        event = json.loads(self._get_param("Event") or "")
    except json.JSONDecodeError:
        return self.error("ValidationException", "Parameter Event is not valid.")
    missing = [f for f in REQUIRED_EVENT_FIELDS if not isinstance(event, dict) or f not in event]
    if missing:
        return self.error("ValidationException", f"Parameter Event is not valid: missing {', '.join(missing)}.")
    return self._create_response({"Result": EventPattern(None, pattern).matches_event(event)})
