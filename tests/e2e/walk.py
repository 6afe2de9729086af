"""Runs a command on every single-bit flip or truncation of a file.

walk.py MODE FILE TMPDIR HEADER CMD...

MODE is flip (every bit), flip-sparse (every bit of the first HEADER
bytes, one bit of every later byte: for slow sanitized builds) or trunc
(every length from 0 to the size minus one). CMD gets each variant's path
as its last argument and must exit 5, or 3 when the 4-byte magic is
damaged (the file is then no artifact at all), and never print a
sanitizer report. Prints one line per variant that misbehaves, and the
number of variants on stderr.
"""
import concurrent.futures
import os
import re
import subprocess
import sys

SANITIZER = re.compile(
    rb'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer')


def variants(mode, data, header):
    if mode == 'trunc':
        for n in range(len(data)):
            yield 'trunc-%d' % n, n, data[:n]
        return
    for off in range(len(data)):
        bits = range(8) if mode == 'flip' or off < header else [off % 8]
        for bit in bits:
            v = bytearray(data)
            v[off] ^= 1 << bit
            yield 'flip-%d.%d' % (off, bit), off, bytes(v)


def main(mode, path, tmp, header, cmd):
    data = open(path, 'rb').read()

    def one(item):
        name, off, v = item
        p = os.path.join(tmp, name)
        with open(p, 'wb') as f:
            f.write(v)
        try:
            r = subprocess.run(cmd + [p], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        except OSError as e:  # e.g. the binary is being rebuilt
            r = subprocess.CompletedProcess(cmd, -1, b'', str(e).encode())
        os.unlink(p)
        want = 3 if off < 4 else 5
        bad = r.returncode != want or SANITIZER.search(r.stderr)
        return name, r.returncode, want, bad, r.stderr

    n = 0
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        for name, rc, want, bad, err in ex.map(one,
                                               variants(mode, data, header)):
            n += 1
            if bad:
                print('%s: exit %d, expected %d: %s' % (
                    name, rc, want,
                    err.decode('latin-1').strip().replace('\n', ' | ')[:300]))
    print('%d variants' % n, file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
         sys.argv[5:])
