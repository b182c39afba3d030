// The probe runner's stand-in for iconv-lite (deploy/probe-runner.ts aliases
// it): mysql2 calls iconv-lite only for a result column in a character set
// Node's Buffer cannot decode itself (utf8, latin1, ascii, ucs2 and binary
// never get here). kura's probes connect with mysql2's default utf8mb4, so
// their results arrive in utf8; the 481 KB of iconv-lite's tables were never
// used. Other character sets decode through Node's TextDecoder (ICU, the
// WHATWG encodings); the few it lacks, and any encoding of a string, fail by
// name instead of returning garbled text. CESU-8 (utf8mb3, which MariaDB
// announces in its handshake) is coded here in both directions.

// mysql2's encoding names (mysql2/lib/constants/charset_encodings.js) to WHATWG labels.
const LABELS = {
  big5: 'big5',
  latin2: 'iso-8859-2',
  koi8r: 'koi8-r',
  eucjp: 'euc-jp',
  eucjpms: 'euc-jp',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  hebrew: 'iso-8859-8',
  tis620: 'windows-874',
  euckr: 'euc-kr',
  latin5: 'windows-1254',
  latin7: 'iso-8859-13',
  koi8u: 'koi8-u',
  gb2312: 'gbk',
  gbk: 'gbk',
  gb18030: 'gb18030',
  greek: 'iso-8859-7',
  cp866: 'ibm866',
  macintosh: 'macintosh',
  macroman: 'macintosh',
  utf16: 'utf-16be',
  'utf16-le': 'utf-16le',
};

function unsupported(what, encoding) {
  return new Error(
    `the probe runner cannot ${what} MySQL character set "${encoding}": it decodes utf8 (kura's probes connect with utf8mb4), cesu8 and ${Object.keys(LABELS).join(', ')}; set the probe's result to utf8mb4 (CONVERT(… USING utf8mb4))`,
  );
}

// CESU-8 (mysql2's name for MySQL's utf8mb3, which MariaDB's handshake uses):
// UTF-8 except that a character outside the BMP is its two UTF-16 surrogates,
// three bytes each. Every UTF-16 code unit is one 1-3 byte sequence.
function cesu8Decoder() {
  let rest = Buffer.alloc(0);
  return {
    write(buf) {
      const b = rest.length ? Buffer.concat([rest, buf]) : buf;
      const units = [];
      let i = 0;
      while (i < b.length) {
        const c = b[i];
        const n = c < 0x80 ? 1 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (i + n > b.length) break;
        if (n === 1) units.push(c < 0x80 ? c : 0xfffd);
        else if (n === 2) units.push(((c & 0x1f) << 6) | (b[i + 1] & 0x3f));
        else units.push(((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f));
        i += n;
      }
      rest = Buffer.from(b.subarray(i));
      let out = '';
      for (let k = 0; k < units.length; k += 4096) out += String.fromCharCode(...units.slice(k, k + 4096));
      return out;
    },
    end() {
      const left = rest.length ? '\ufffd' : undefined;
      rest = Buffer.alloc(0);
      return left;
    },
  };
}

function cesu8Encoder() {
  return {
    write(str) {
      const out = [];
      for (let i = 0; i < str.length; i++) {
        const u = str.charCodeAt(i);
        if (u < 0x80) out.push(u);
        else if (u < 0x800) out.push(0xc0 | (u >> 6), 0x80 | (u & 0x3f));
        else out.push(0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f));
      }
      return Buffer.from(out);
    },
    end: () => undefined,
  };
}

exports.getDecoder = (encoding) => {
  if (String(encoding).toLowerCase() === 'cesu8') return cesu8Decoder();
  const label = LABELS[String(encoding).toLowerCase()];
  if (!label) throw unsupported('decode', encoding);
  const decoder = new TextDecoder(label);
  return {
    write: (buf) => decoder.decode(buf, { stream: true }),
    end: () => decoder.decode() || undefined,
  };
};

exports.getEncoder = (encoding) => {
  if (String(encoding).toLowerCase() === 'cesu8') return cesu8Encoder();
  throw unsupported('encode to', encoding);
};

exports.encodingExists = (encoding) =>
  Object.hasOwn(LABELS, String(encoding).toLowerCase()) || String(encoding).toLowerCase() === 'cesu8';
