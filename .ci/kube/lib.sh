# Shared by .ci/kube-up, .ci/kube-down, .ci/kube-user and .ci/kube-apiserver (sourced, not run).
# Expects $src to be this folder (.ci/kube).
: "${src:?lib.sh needs \$src, the .ci/kube folder}"

log() { echo "kube: $*" >&2; }
die() {
  echo "kube: error: $*" >&2
  exit 1
}

# The Kubernetes release the API server is built from, as go.mod requires it.
kube_version() {
  awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$src/go.mod"
}

kube_cache() { echo "${STOKE_KUBE_CACHE:-$HOME/.cache/stoke-kube}"; }

# The version stamped into the binary, so /version answers as a released server would.
kube_ldflags() {
  local v major minor
  v="$(kube_version)"
  major="${v#v}" major="${major%%.*}"
  minor="${v#v*.}" minor="${minor%%.*}"
  local p=k8s.io/component-base/version
  echo "-s -w -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
}

# Everything that decides what the build produces; a change to any of it rebuilds. The Go
# version is left out on purpose: a Go update on the machine would otherwise cost a cold
# build of tens of minutes for binaries that behave the same.
kube_inputs_hash() {
  {
    cat "$src/go.mod" "$src/go.sum" "$src"/cmd/*/main.go
    kube_ldflags
  } | sha256sum | cut -d' ' -f1
}

# Sets KUBE_BIN to the folder holding kube-apiserver and etcd, building them first unless
# the cache already holds binaries built from the same inputs.
kube_build() {
  local cache version stamp
  cache="$(kube_cache)"
  version="$(kube_version)"
  [[ -n "$version" ]] || die "$src/go.mod requires no k8s.io/kubernetes version"
  KUBE_BIN="$cache/$version/bin"
  stamp="$(kube_inputs_hash)"
  if kube_built "$stamp"; then return 0; fi

  # The machine's own Go, also when a login shell did not put it on PATH; GOTOOLCHAIN=local
  # keeps a GOTOOLCHAIN exported for some other project from fetching another toolchain.
  if ! command -v go > /dev/null && [[ -x /usr/local/go/bin/go ]]; then
    PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go > /dev/null || die "Go is needed once to build kube-apiserver and etcd \
for the tests ($src/go.mod names the oldest Go that builds them); install it, then run \
.ci/kube-up --build-only"

  mkdir -p "$cache/$version"
  # Two test binaries may start at once on a cold machine; the second waits for the first
  # build instead of compiling the same packages again.
  exec 9> "$cache/$version/.lock"
  flock 9
  if kube_built "$stamp"; then
    exec 9>&-
    return 0
  fi
  local tmp="$cache/$version/bin.tmp.$$" started
  rm -rf "$tmp"
  mkdir -p "$tmp"
  started=$(date +%s)
  log "building kube-apiserver $version and etcd with $(GOTOOLCHAIN=local go env GOVERSION) into $KUBE_BIN"
  log "(first use only: about 20 minutes on 2 cores; later runs find them in the cache)"
  # -trimpath and caches under $cache keep the build reproducible and out of the repository;
  # -modcacherw lets the cache be deleted with a plain rm -rf.
  if ! (cd "$src" && env GOTOOLCHAIN=local \
    GOPATH="$cache/gopath" GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache" \
    GOFLAGS="-mod=readonly -modcacherw -buildvcs=false" \
    go build -trimpath -ldflags "$(kube_ldflags)" -o "$tmp/" ./cmd/kube-apiserver ./cmd/etcd); then
    rm -rf "$tmp"
    exec 9>&-
    die "building kube-apiserver/etcd from $src failed (Go output above); the Go module proxy must be reachable on first use"
  fi
  echo "$stamp" > "$tmp/.inputs"
  rm -rf "$KUBE_BIN"
  mv "$tmp" "$KUBE_BIN"
  exec 9>&-
  log "built in $(($(date +%s) - started))s"
}

kube_built() {
  [[ -x "$KUBE_BIN/kube-apiserver" && -x "$KUBE_BIN/etcd" && "$(cat "$KUBE_BIN/.inputs" 2> /dev/null)" == "$1" ]]
}

# N distinct free TCP ports on 127.0.0.1, space-separated.
free_ports() {
  python3 - "$1" << 'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Signs DIR/NAME.crt for DIR/NAME.key (created if missing) with the cluster CA.
# $3 is the subject, $4 the X.509 extensions.
sign_cert() {
  local dir="$1" name="$2" subject="$3" ext="$4"
  [[ -f "$dir/$name.key" ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$dir/$name.key" 2> /dev/null
  openssl req -new -key "$dir/$name.key" -subj "$subject" -config "$src/openssl.cnf" \
    -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -out "$dir/$name.crt" \
    -extfile <(printf '%b' "$ext") 2> /dev/null
  rm -f "$dir/$name.csr"
  chmod 600 "$dir/$name.key"
}

# A client certificate for user NAME in the given groups (each an O= of the subject).
sign_client_cert() {
  local dir="$1" name="$2" subject="/CN=$2"
  shift 2
  local group
  for group in "$@"; do subject+="/O=$group"; done
  sign_cert "$dir" "$name" "$subject" \
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'
}

# The CA, the serving certificate, the admin user and the service-account keys. Kept when
# DIR is reused, so kubeconfigs minted earlier stay valid.
kube_certs() {
  local dir="$1"
  if [[ ! -f "$dir/ca.key" || ! -f "$dir/ca.crt" ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key" 2> /dev/null
    chmod 600 "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -subj "/CN=stoke-test-ca" -days 3650 \
      -config "$src/openssl.cnf" -extensions ca -out "$dir/ca.crt"
  fi
  [[ -f "$dir/apiserver.crt" ]] || sign_cert "$dir" apiserver "/CN=kube-apiserver" \
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1\n'
  [[ -f "$dir/admin.crt" ]] || sign_client_cert "$dir" admin system:masters
  if [[ ! -f "$dir/sa.key" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/sa.key" 2> /dev/null
    openssl pkey -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2> /dev/null
    chmod 600 "$dir/sa.key"
  fi
}

# Starts one background server whose output goes to DIR/NAME.log; its pid goes to
# DIR/NAME.pid. setsid keeps it out of the caller's process group and pipes.
spawn() {
  local dir="$1" name="$2"
  shift 2
  setsid "$@" < /dev/null > "$dir/$name.log" 2>&1 &
  echo $! > "$dir/$name.pid"
}

# Whether PID runs; a zombie (exited, not yet reaped by its new parent) counts as gone.
running() {
  local state
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2> /dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

alive() { [[ -f "$1" ]] && running "$(cat "$1")"; }

# Prints the reason and the tail of DIR/NAME.log, then fails.
start_failed() {
  local dir="$1" name="$2" why="$3"
  log "$name $why; last lines of $dir/$name.log:"
  tail -n 40 "$dir/$name.log" | sed 's/^/  | /' >&2
  return 1
}

kube_start() {
  local dir="$1" etcd_port="$2" peer_port="$3" api_port="$4"
  local timeout="${STOKE_KUBE_TIMEOUT:-120}" deadline
  rm -rf "$dir/etcd-data" "$dir/apiserver.log"
  # A name of its own, so that the etcd answering on the port can be told from another
  # cluster's that won the port (etcd has no authentication to tell them apart).
  # --unsafe-no-fsync: the data is thrown away with the cluster, and fsync on a disk
  # shared with parallel builds is what makes a test etcd slow.
  local member="stoke-test-$$-$RANDOM"
  spawn "$dir" etcd "$KUBE_BIN/etcd" --name "$member" --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "$member=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level warn
  deadline=$(($(date +%s) + timeout))
  until curl -fsS --max-time 5 -X POST "http://127.0.0.1:$etcd_port/v3/cluster/member/list" \
    2> /dev/null | grep -qF "\"name\":\"$member\"" &&
    curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$etcd_port/health" 2> /dev/null; do
    alive "$dir/etcd.pid" || {
      start_failed "$dir" etcd "exited"
      return 1
    }
    (($(date +%s) < deadline)) || {
      start_failed "$dir" etcd "not healthy after ${timeout}s"
      return 1
    }
    sleep 0.2
  done

  kube_start_apiserver "$dir" "$etcd_port" "$api_port"
}

# Starts kube-apiserver for DIR on the etcd at ETCD_PORT, serving on API_PORT, and waits
# until it is ready. Run by kube_start, and by .ci/kube-apiserver to start it again on the
# same etcd after a test stopped it. The ports are kept in DIR/ports for that.
kube_start_apiserver() {
  local dir="$1" etcd_port="$2" api_port="$3"
  local timeout="${STOKE_KUBE_TIMEOUT:-120}" deadline
  echo "$etcd_port $api_port" > "$dir/ports"
  # Admission: ServiceAccount is off because it rejects every Pod whose service account
  # does not exist, and without kube-controller-manager nothing creates "default" in a new
  # namespace. Every other default plugin stays on. The endpoint reconciler is off because
  # Endpoints may not hold a loopback address, the only one this server has.
  spawn "$dir" apiserver "$KUBE_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --cert-dir="$dir/apiserver-certs" \
    --tls-cert-file="$dir/apiserver.crt" --tls-private-key-file="$dir/apiserver.key" \
    --client-ca-file="$dir/ca.crt" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$dir/sa.pub" \
    --service-account-signing-key-file="$dir/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --endpoint-reconciler-type=none \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true \
    --profiling=false
  deadline=$(($(date +%s) + timeout))
  local ready
  until ready="$(curl -sS --max-time 5 --cacert "$dir/ca.crt" --cert "$dir/admin.crt" --key "$dir/admin.key" \
    "https://127.0.0.1:$api_port/readyz" 2> /dev/null)" && [[ "$ready" == ok ]]; do
    alive "$dir/apiserver.pid" || {
      start_failed "$dir" apiserver "exited"
      return 1
    }
    (($(date +%s) < deadline)) || {
      curl -sS --max-time 5 --cacert "$dir/ca.crt" --cert "$dir/admin.crt" --key "$dir/admin.key" \
        "https://127.0.0.1:$api_port/readyz?verbose" 2>&1 | grep -v '\[+\]' | sed 's/^/  readyz: /' >&2 || true
      start_failed "$dir" apiserver "not ready after ${timeout}s (raise STOKE_KUBE_TIMEOUT on a slow machine)"
      return 1
    }
    sleep 0.5
  done
}

# Stops the process in DIR/NAME.pid if it is still the one started for DIR (a recycled pid
# belonging to something else is left alone).
stop_pid() {
  local dir="$1" name="$2" pid i
  [[ -f "$dir/$name.pid" ]] || return 0
  pid="$(cat "$dir/$name.pid")"
  if running "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF "$dir"; then
    kill "$pid" 2> /dev/null || true
    for ((i = 0; i < 100; i++)); do
      running "$pid" || break
      sleep 0.1
    done
    kill -KILL "$pid" 2> /dev/null || true
  fi
  rm -f "$dir/$name.pid"
}

kube_stop() {
  local dir="$1"
  stop_pid "$dir" apiserver
  stop_pid "$dir" etcd
  rm -rf "$dir/etcd-data"
}

# A kubeconfig for one user of the test cluster, credentials embedded so it can be copied.
write_kubeconfig() {
  local out="$1" server="$2" ca="$3" crt="$4" key="$5" user="$6"
  umask 077
  cat > "$out" << EOF
apiVersion: v1
kind: Config
clusters:
  - name: stoke-test
    cluster:
      server: $server
      certificate-authority-data: $(base64 -w0 < "$ca")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 < "$crt")
      client-key-data: $(base64 -w0 < "$key")
contexts:
  - name: stoke-test
    context:
      cluster: stoke-test
      user: $user
current-context: stoke-test
EOF
}
