# Shared helpers for tools/rig/*.sh (sourced, not executed).
# shellcheck shell=sh

CACHE=${VDISK_CACHE:-$HOME/.cache/vdisk}
# shellcheck disable=SC2034 # used by the scripts that source this file
RIG_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

msg() { printf 'rig: %s\n' "$*" >&2; }
die() { printf 'rig: ERROR: %s\n' "$*" >&2; exit 1; }

need_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 ||
			die "'$_c' not found; run tools/deps.sh (host Debian packages)"
	done
}

# Private arm64 apt state (never touches the host's apt/dpkg state).
APTDIR=$CACHE/apt
APT_OPTS="-q -oAPT::Architecture=arm64 -oAPT::Architectures=arm64
 -oDir::State=$APTDIR/state -oDir::State::Lists=$APTDIR/lists
 -oDir::State::status=$APTDIR/state/status
 -oDir::Etc::SourceList=$APTDIR/etc/sources.list -oDir::Etc::SourceParts=$APTDIR/etc/sources.list.d
 -oDir::Etc::Preferences=$APTDIR/etc/preferences -oDir::Etc::PreferencesParts=$APTDIR/etc/preferences.d
 -oDir::Cache=$APTDIR/cache -oDir::Cache::Archives=$APTDIR/archives
 -oAPT::Sandbox::User=root -oAPT::Get::Show-Versions=false"
# shellcheck disable=SC2086
rig_apt_get() { apt-get $APT_OPTS "$@"; }
# shellcheck disable=SC2086
rig_apt_cache() { apt-cache $APT_OPTS "$@"; }

# Serialise cache updates between concurrent rig invocations.
# Usage: rig_lock NAME  (held until the calling script exits)
rig_lock() {
	mkdir -p "$CACHE"
	need_cmd flock
	exec 9>"$CACHE/.lock-$1"
	flock 9
}

# stamp_ok FILE CONTENT: true when FILE exists and holds exactly CONTENT
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# Arm64 sysroot made of the unpacked Debian packages (see fetch.sh).
# shellcheck disable=SC2034
SYSROOT=$CACHE/sysroot
