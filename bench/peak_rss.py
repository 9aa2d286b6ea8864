"""Run a command; print its wall seconds and peak RSS (bytes) as JSON on the last line."""

import json
import resource
import subprocess
import sys
import time

start = time.perf_counter()
code = subprocess.run(sys.argv[1:], check=False).returncode
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"returncode": code, "seconds": seconds, "peak_rss": peak_kib * 1024}))
