# Shared by Benchmarks/api and Benchmarks/web (sourced): wrk runs that print "rps p99_ms".
# Needs: $scratch (a folder for wrk's output), $seconds, $threads.

# wrk_run NAME URL CONNECTIONS [wrk args…] → "rps p99_ms"
wrk_run() {
    local name=$1 url=$2 conns=$3; shift 3
    local threads_here=$threads; (( conns < threads_here )) && threads_here=$conns
    echo "▸ $name: wrk -t$threads_here -c$conns -d${seconds}s" >&2
    wrk -t"$threads_here" -c"$conns" -d"${seconds}s" --latency "$@" "$url" >"$scratch/wrk-$name.txt"
    python3 - "$scratch/wrk-$name.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors: print(f"warning: {errors.group(1)} non-2xx answers", file=sys.stderr)
print(f"{rps:.0f} {p99:.2f}")
PY
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# median_round "rps p99" … → the round with the median rate (rps and its p99).
median_round() { printf '%s\n' "$@" | sort -n -k1,1 | sed -n "$(( ($# + 1) / 2 ))p"; }
# all_rps "rps p99" … → the rates, comma-separated.
all_rps() { local r out=(); for r in "$@"; do out+=("${r%% *}"); done; (IFS=,; echo "${out[*]}"); }
