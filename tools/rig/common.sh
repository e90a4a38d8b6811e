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

# rig_lib_closure PKG...: the lib* (and zlib1g) packages PKG... need, by Depends/Pre-Depends.
rig_lib_closure() {
	_seen="" _todo=$*
	while [ -n "$_todo" ]; do
		# shellcheck disable=SC2086
		_deps=$(rig_apt_cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
			--no-replaces --no-enhances $_todo 2>/dev/null |
			sed -n 's/^ *[ |]\(Pre\)\{0,1\}Depends: \(lib[^ <>]*\|zlib1g\)$/\2/p' | sort -u)
		_seen="$_seen $_todo"
		_todo=""
		for _d in $_deps; do
			case " $_seen $_todo " in *" $_d "*) ;; *) _todo="$_todo $_d" ;; esac
		done
	done
	echo "$_seen" | tr ' ' '\n' | grep -E '^(lib|zlib1g$)' | sort -u | tr '\n' ' '
}

# rig_fetch_debs DIR WHAT PKG...: downloads the arm64 .debs of PKG... missing from DIR; sets
# $manifest to their sorted file names (for the caller's stamp).
rig_fetch_debs() {
	_dir=$1 _what=$2
	shift 2
	mkdir -p "$_dir"
	# One apt-cache call for all names (it is slow to start): "Package Filename" pairs.
	_pairs=$(rig_apt_cache show --no-all-versions "$@" 2>/dev/null |
		awk '/^Package: /{p=$2} /^Filename: /{n=split($2,a,"/"); print p, a[n]}')
	manifest="" _missing=""
	for _p in "$@"; do
		_fn=$(echo "$_pairs" | awk -v p="$_p" '$1 == p { print $2; exit }')
		[ -n "$_fn" ] || die "arm64 package '$_p' not found"
		manifest="$manifest$_fn
"
		[ -f "$_dir/$_fn" ] || _missing="$_missing $_p"
	done
	manifest=$(printf '%s' "$manifest" | sort -u)
	if [ -z "$_missing" ]; then
		msg "arm64 packages for $_what: $(echo "$manifest" | wc -l) debs (cached: yes)"
		return 0
	fi
	msg "downloading arm64 packages for $_what:$_missing"
	# shellcheck disable=SC2086
	(cd "$_dir" && rig_apt_get download $_missing) >"$_dir/download.log" 2>&1 ||
		{ cat "$_dir/download.log" >&2; die "apt-get download failed"; }
	# apt-get download names files with the epoch (1%3a...); the pool name has none
	for _f in "$_dir"/*%3a*.deb; do
		[ -e "$_f" ] || continue
		mv "$_f" "$_dir/$(basename "$_f" | sed 's/_[0-9]*%3a/_/')"
	done
	for _f in $manifest; do [ -f "$_dir/$_f" ] || die "download did not produce $_f"; done
}

# rig_unpack_debs DIR ROOT: unpacks the .debs named in $manifest (rig_fetch_debs) from DIR into
# ROOT, unless ROOT already holds exactly them; then drops DIR's .debs no longer listed.
rig_unpack_debs() {
	if stamp_ok "$2.stamp" "$manifest" && [ -d "$2" ]; then
		msg "$2 (cached: yes)"
		return 0
	fi
	msg "unpacking $(echo "$manifest" | wc -l) debs into $2 (cached: no)"
	rm -rf "$2" "$2.stamp"
	mkdir -p "$2"
	for _f in $manifest; do dpkg-deb -x "$1/$_f" "$2" || die "dpkg -x $_f failed"; done
	echo "$manifest" >"$2.stamp"
	for _f in "$1"/*.deb; do
		case "
$manifest
" in *"
${_f##*/}
"*) ;; *) rm -f "$_f" ;; esac
	done
}
