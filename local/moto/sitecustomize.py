# Emulator (local/): kura's patches to moto, loaded by Python at start-up
# when kura starts moto_server (local/emulator.ts puts this directory on
# PYTHONPATH). Each patch module is applied right after the moto module it
# patches has been imported, so moto_server starts as fast as without them.
# Production code never sees any of this: it talks to AWS the same way.
import importlib
import importlib.abc
import sys

# moto module -> kura patch module (in kura_moto/, each with an apply()).
PATCHES = {
    "moto.cloudformation.parsing": "kura_moto.cloudformation",
}


class _AfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        patch = PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            importlib.import_module(patch).apply()

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _AfterImport())
