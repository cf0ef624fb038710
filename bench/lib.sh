# Shared by the benchmark scripts: child-process cleanup, waiting for a port, and the TLS
# origin every proxy benchmark fetches from (a throwaway CA, a localhost leaf, nginx serving
# /1k and accepting POST /post). Source it with OUT set to the run's output directory.

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# start_origin PORT: writes $OUT/ca.pem (trust it to reach the origin) and starts nginx.
# KEEPALIVE_REQUESTS: requests nginx serves on one connection before closing it (GOAWAY on
# HTTP/2); bench/goaway.sh sets it small.
# ORIGIN_NAMES adds names to the leaf ("DNS:api.openai.com,..."); ORIGIN_LOCATIONS adds
# nginx location blocks (with $OUT already expanded).
start_origin() {
  local port=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Bench CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout "$OUT/ca.key" -out "$OUT/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$OUT/leaf.key" -out "$OUT/leaf.csr" 2>/dev/null
  printf "subjectAltName=DNS:localhost,IP:127.0.0.1${ORIGIN_NAMES:+,$ORIGIN_NAMES}\nextendedKeyUsage=serverAuth\n" > "$OUT/leaf.ext"
  openssl x509 -req -in "$OUT/leaf.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial \
    -days 2 -extfile "$OUT/leaf.ext" -out "$OUT/leaf.pem" 2>/dev/null
  head -c 1024 /dev/zero | tr '\0' 'w' > "$OUT/1k"
  cat > "$OUT/nginx.conf" <<NGINX
worker_processes 1;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests ${KEEPALIVE_REQUESTS:-1000000};
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $OUT/leaf.pem;
    ssl_certificate_key $OUT/leaf.key;
    location = /1k { alias $OUT/1k; default_type text/plain; }
    location = /post { client_max_body_size 16m; return 200 "ok"; }
    ${ORIGIN_LOCATIONS:-}
  }
}
NGINX
  nginx -c "$OUT/nginx.conf" -p "$OUT" -g "daemon off;" & PIDS+=($!)
  wait_port "$port"
}
