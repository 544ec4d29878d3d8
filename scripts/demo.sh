#!/usr/bin/env bash
# The demo on embedded defaults: installs what is needed, then walks one host through
# build → switch → snippet change (reload, same PID) → bad snippet refused → rollback → gc.
# Everything lives in a temp directory; nothing touches /etc or /var/lib.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null

demo=$(mktemp -d /tmp/congruent-demo.XXXXXX)
chmod 755 "$demo" # PostgreSQL runs as user postgres and reads its configuration from the store in here
state=$demo/state local=$demo/local host=$demo/web1.json dbstate=$demo/dbstate
cp examples/web1.json "$host"
mkdir -p "$local/nginx"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
congruent() { node dist/cli/main.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
trap 'congruent down --state "$state" >/dev/null 2>&1 || true; congruent down --state "$dbstate" >/dev/null 2>&1 || true' EXIT

site() { printf 'server {\n    listen 127.0.0.1:%s;\n    location / { return 200 "%s\\n"; }\n}\n' "$port" "$1" > "$local/nginx/shop.conf"; }
site "hello from generation one"

step "A customer drops a server block into the nginx integration point"
cat "$local/nginx/shop.conf"
step "congruent build: same inputs, same store path"
congruent build --host "$host" --local "$local" --state "$state"
congruent build --host "$host" --local "$local" --state "$state"
step "congruent switch: nginx starts under s6"
congruent switch --host "$host" --local "$local" --state "$state"
curl -s "http://127.0.0.1:$port/"
congruent status --state "$state"

step "The customer edits the snippet: the plan is a reload"
site "hello from generation two"
congruent switch --host "$host" --local "$local" --state "$state" --dry-run
congruent switch --host "$host" --local "$local" --state "$state"
curl -s "http://127.0.0.1:$port/"
congruent status --state "$state"

step "A broken snippet is refused before anything changes"
printf 'server {\n    listen 127.0.0.1:%s;\n    retrun 200;\n}\n' "$port" > "$local/nginx/broken.conf"
congruent switch --host "$host" --local "$local" --state "$state" || true
curl -s "http://127.0.0.1:$port/"
rm "$local/nginx/broken.conf"

step "congruent rollback"
congruent rollback --state "$state"
curl -s "http://127.0.0.1:$port/"
congruent generations --state "$state"

step "congruent gc keeps every generation a profile roots"
congruent gc --state "$state"

step "PostgreSQL: a work_mem snippet is a reload (same postmaster PID), shared_buffers a restart"
pgport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
db=$demo/db1.json
printf '{"name": "db1", "roles": ["postgresql15"], "settings": {"postgresql": {"port": %s}}}\n' "$pgport" > "$db"
congruent switch --host "$db" --local "$local" --state "$dbstate"
mkdir -p "$local/postgresql"
printf 'work_mem = 16MB\n' > "$local/postgresql/tuning.conf"
congruent switch --host "$db" --local "$local" --state "$dbstate"
psql -h "$dbstate/run/postgresql" -p "$pgport" -U postgres -Atc 'SHOW work_mem'
congruent status --state "$dbstate"
printf 'work_mem = lots\n' > "$local/postgresql/tuning.conf"
congruent switch --host "$db" --local "$local" --state "$dbstate" || true
printf 'work_mem = 16MB\nshared_buffers = 64MB\n' > "$local/postgresql/tuning.conf"
congruent switch --host "$db" --local "$local" --state "$dbstate" --dry-run
congruent switch --host "$db" --local "$local" --state "$dbstate"
congruent status --state "$dbstate"

step "congruent down"
congruent down --state "$state"
congruent down --state "$dbstate"
echo "demo state kept in $demo"
