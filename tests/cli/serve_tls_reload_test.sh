#!/usr/bin/env bash
# ferry serve's listener on SIGHUP: a renewed certificate (the same files rewritten, as a
# certificate manager renews them) is served without a restart; a key that is not the
# certificate's is refused (the running listener and certificate go on, the refusal counted);
# a new listen port moves the listener. SIGTERM after all that exits 0.
source "$(dirname "$0")/testlib.bash"
A=$(new_bucket ra)
B=$(new_bucket rb)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
PORT2=$(free_port)
new_pair() {  # new_pair NAME: NAME.cert.pem and NAME.key.pem, self-signed for 127.0.0.1
  ( cd "$WORK" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=127.0.0.1 $1" -addext subjectAltName=IP:127.0.0.1 -keyout "$1.key.pem" \
      -out "$1.cert.pem" 2>/dev/null )
}
new_pair one
new_pair two
fingerprint_of() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }
served_fingerprint() {  # served_fingerprint PORT: of the certificate the listener presents
  openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
serves() { [ "$(served_fingerprint "$1")" = "$(fingerprint_of "$WORK/$2.cert.pem")" ]; }
cp "$WORK/one.cert.pem" "$WORK/cert.pem"
cp "$WORK/one.key.pem" "$WORK/key.pem"
cp "$CONF" "$WORK/remotes.toml"
serve_config() {  # serve_config PORT
  cat "$WORK/remotes.toml" > "$CONF"
  cat >> "$CONF" <<EOT
[[replication.rules]]
id = "r"
destinations = ["rb:$B"]
[serve]
listen = "127.0.0.1:$1"
replicate = ["ra:$A"]
scan_interval = "1h"
tls_cert = "$WORK/cert.pem"
tls_key = "$WORK/key.pem"
EOT
}
serve_config "$PORT"
"$FERRY_BIN" --config "$CONF" serve --state "$WORK/state.db" > "$WORK/serve.out" 2> "$WORK/serve.err" &
pid=$!
healthz() { curl -sf --max-time 5 --cacert "$WORK/$2.cert.pem" -o /dev/null "https://127.0.0.1:$1/healthz"; }
check "serve answers over HTTPS with the first certificate" wait_for 20 healthz "$PORT" one
check "  it presents that certificate" serves "$PORT" one
metric() { curl -sf --max-time 5 --cacert "$WORK/$3.cert.pem" "https://127.0.0.1:$2/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
reloads_are() { [ "$(metric "ferry_serve_reloads_total{result=\"$1\"}" "$3" "$4")" = "$2" ]; }

# renewed: the same paths, new contents
cp "$WORK/two.cert.pem" "$WORK/cert.pem"
cp "$WORK/two.key.pem" "$WORK/key.pem"
kill -HUP "$pid"
check "after SIGHUP it presents the renewed certificate" wait_for 20 serves "$PORT" two
check "  and answers with it" healthz "$PORT" two
check "  the reload is counted applied" wait_for 10 reloads_are applied 1 "$PORT" two
check "  logged" grep -q "listener started again" "$WORK/serve.err"

# a key that is not the certificate's: refused, the renewed pair goes on
cp "$WORK/one.key.pem" "$WORK/key.pem"
kill -HUP "$pid"
check "a key that is not the certificate's is refused" wait_for 10 reloads_are refused 1 "$PORT" two
check "  the refusal names the key" grep -q "tls_key" "$WORK/serve.err"
check "  the renewed certificate is still served" serves "$PORT" two
cp "$WORK/two.key.pem" "$WORK/key.pem"

# another port: the listener moves
serve_config "$PORT2"
kill -HUP "$pid"
check "a new listen port is taken on SIGHUP" wait_for 20 healthz "$PORT2" two
no_answer() { ! healthz "$PORT" two; }
check "  the old one is closed" no_answer

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
check "SIGTERM ends it with exit 0" [ "$rc" = 0 ]
drop_versions ra "$A" --bucket
finish
