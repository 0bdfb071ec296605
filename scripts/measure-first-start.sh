#!/usr/bin/env bash
# First start, measured: clone this repository (at REF, default HEAD) into a temporary folder,
# run `make run` there as a person would on a fresh clone, and print the seconds until the home
# page first answers HTTP 200 (after the login redirect), and — when the site says what is still
# being prepared — until that list is empty. Then stop every process `make run` started and
# remove the clone.
#
#   scripts/measure-first-start.sh [REF]          PORT=8150 by default; set PORT to change it
#
# The virtualenv is built from pip's cache like any fresh clone (nothing is reused from this
# checkout). Prints one line per milestone and a final JSON line.
set -euo pipefail

REF=${1:-HEAD}
PORT=${PORT:-8150}
TIMEOUT=${TIMEOUT:-900}
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$src" rev-parse "$REF")
work=$(mktemp -d "${TMPDIR:-/tmp}/first-start-XXXXXX")
clone="$work/clone"
git clone -q --no-hardlinks "$src" "$clone"
git -C "$clone" checkout -q "$commit"
log="$work/make-run.log"
cookies="$work/cookies"

url="http://127.0.0.1:$PORT"
if curl -s -o /dev/null --max-time 2 "$url/"; then
  echo "port $PORT is already in use" >&2
  exit 1
fi

start=$(date +%s.%N)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# a session of its own, so that every process of the run can be stopped by its group id
setsid bash -c "cd '$clone' && exec make run PORT=$PORT" >"$log" 2>&1 </dev/null &
leader=$!

stop() {
  kill -TERM -- "-$leader" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 -- "-$leader" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$leader" 2>/dev/null || true
}
trap 'stop; rm -rf "$work"' EXIT

elapsed() { echo "$(date +%s.%N) - $start" | bc; }

first_200=""
while :; do
  code=$(curl -s -o "$work/page.html" -w '%{http_code}' -L --max-time 10 "$url/" || true)
  if [ "$code" = "200" ]; then
    first_200=$(elapsed)
    echo "first HTTP 200 of / after ${first_200} s"
    break
  fi
  if ! kill -0 "$leader" 2>/dev/null; then
    echo "make run stopped before the site answered:" >&2
    tail -30 "$log" >&2
    exit 1
  fi
  if [ "$(echo "$(elapsed) > $TIMEOUT" | bc)" = 1 ]; then
    echo "no HTTP 200 within $TIMEOUT s" >&2
    tail -30 "$log" >&2
    exit 1
  fi
  sleep 0.5
done

# Log in as the demo staff account and watch the home page until nothing is being prepared.
login() {
  curl -s -c "$cookies" -b "$cookies" -o "$work/login.html" "$url/accounts/login/"
  token=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$work/login.html" | head -1)
  curl -s -c "$cookies" -b "$cookies" -o /dev/null -e "$url/accounts/login/" \
    --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "username=staff" \
    --data-urlencode "password=Staff-2026!" "$url/accounts/login/"
}
login
ready=""
said_pending=0
while :; do
  curl -s -c "$cookies" -b "$cookies" -o "$work/home.html" --max-time 10 "$url/" || true
  if grep -q 'data-demo-pending' "$work/home.html"; then
    said_pending=1
  elif grep -q 'home-hero' "$work/home.html"; then
    ready=$(elapsed)
    break
  else
    login
  fi
  if [ "$(echo "$(elapsed) > $TIMEOUT" | bc)" = 1 ]; then
    echo "demo data still being prepared after $TIMEOUT s" >&2
    break
  fi
  sleep 2
done
if [ "$said_pending" = 1 ]; then
  echo "home page listed work still being prepared; all done after ${ready:-?} s"
else
  echo "home page complete at the first look (${ready} s)"
fi
echo "{\"commit\": \"${commit:0:10}\", \"first_200_s\": $first_200, \"all_prepared_s\": ${ready:-null}, \"listed_pending\": $said_pending, \"loadavg_at_start\": \"$load_before\"}"
