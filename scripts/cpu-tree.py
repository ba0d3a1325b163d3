#!/usr/bin/env python3
# Measures a command's CPU with every process it starts, however deep:
# Chromium's zygote, renderers and GPU process are not waited for by the
# test process, so `/usr/bin/time` misses most of their CPU. This process
# makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so orphaned
# descendants are re-parented to it and reaped here, and RUSAGE_CHILDREN
# then counts them all. Prints user+sys CPU and the command's wall time.
#   python3 scripts/cpu-tree.py node --enable-source-maps dist/test/web/kinds.test.js
# (TAP output goes to $OUT, /dev/null by default.)
import ctypes, os, resource, subprocess, sys, time

PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
started = time.monotonic()
with open(os.environ.get('OUT', '/dev/null'), 'w') as out:
    status = subprocess.Popen(sys.argv[1:], stdout=out, stderr=subprocess.STDOUT).wait()
wall = time.monotonic() - started
while True:  # the orphans still running, e.g. a browser closing
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f'{sys.argv[-1]}: exit {status}, CPU {r.ru_utime + r.ru_stime:.1f} s (user {r.ru_utime:.1f}, sys {r.ru_stime:.1f}), wall {wall:.1f} s')
