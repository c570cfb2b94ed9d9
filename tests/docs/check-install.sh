#!/bin/bash
# What `meson install` puts where (the packaging contract's layout).
#
#   check-install.sh SOURCE_ROOT
#
# Configures builds of SOURCE_ROOT of its own in a temporary directory,
# builds only the three programs, installs each with DESTDIR and compares
# the exact list of installed files (and their modes) with the one wanted:
#
#  1. --prefix=/usr --sysconfdir=/etc, the packages' configuration: the
#     unit, sysusers and tmpfiles directories from systemd.pc;
#  2. the same build reconfigured with --prefix=/opt/privident
#     --sysconfdir=/opt/privident/etc -Dsystemdsystemunitdir=no: everything
#     under the prefix, no units;
#  3. a fresh build that cannot see systemd.pc, --prefix=/srv/pi,
#     -Dsysusersdir=/srv/sysusers.d -Dtmpfilesdir=no
#     -Dapparmor_profile=false: the units in the fallback PREFIX/lib/...,
#     the sysusers entry where the option says, no tmpfiles entry, no
#     profile.
#
# And the example configuration's install script: onto the running system
# (no DESTDIR) it never replaces a file that is there.
#
# The files of the inetd unit pair and the AppArmor profile are wanted
# where their sources are in the tree (meson.build installs them only then).
set -euo pipefail
if [ $# -ne 1 ] || [ ! -f "$1/meson.build" ]; then
	echo "usage: $0 SOURCE_ROOT" >&2
	exit 2
fi
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# meson test's time-out sends SIGTERM: leave through the EXIT trap.
trap 'exit 1' TERM INT
failed=0
programs=(privident privident-query privident-token)

# pkg-config's value of a systemd.pc variable with its prefix replaced by
# $1, as meson.build takes it.
systemd_var() {
	pkg-config --define-variable=prefix="$1" --variable="$2" systemd 2>/dev/null || true
}

# setup BUILDDIR OPTION...: configures and builds only what is installed.
# Plain build type: nothing here depends on optimisation, and it is fast.
setup() {
	local dir=$1
	shift
	if ! meson setup "$dir" "$src" --buildtype=plain -Dunit_tests=disabled "$@" \
		>"$dir.log" 2>&1 || ! ninja -C "$dir" "${programs[@]}" >>"$dir.log" 2>&1; then
		cat "$dir.log"
		echo "FAIL: could not configure or build with $*"
		exit 1
	fi
}

# check NAME BUILDDIR WANTED: installs into a fresh DESTDIR and compares
# "MODE PATH" of every file with WANTED (one a line, any order).
check() {
	local name=$1 dir=$2 dest=$tmp/dest-$1
	if ! meson install -C "$dir" --no-rebuild --quiet --destdir "$dest" \
		>"$dir.install.log" 2>&1; then
		cat "$dir.install.log"
		echo "FAIL $name: meson install failed"
		failed=1
		return
	fi
	(cd "$dest" && find . ! -type d -printf '%m /%P\n' | sort -k2) >"$tmp/got"
	sort -k2 <<<"$3" | sed '/^$/d' >"$tmp/want"
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		echo "ok $name: $(wc -l <"$tmp/got") files"
		sed 's/^/    /' "$tmp/got"
	else
		echo "FAIL $name: installed files differ from those wanted (- wanted, + installed)"
		sed 's/^/    /' "$tmp/diff"
		failed=1
	fi
	# The example must be the source file itself, whatever the prefix.
	local conf
	conf=$(find "$dest" -path '*/privident/privident.conf')
	if [ -n "$conf" ] && ! cmp -s "$conf" "$src/packaging/etc/privident.conf"; then
		echo "FAIL $name: $conf is not packaging/etc/privident.conf"
		failed=1
	fi
}

# The systemd files and the profile that a layout gets: units into $1,
# sysusers into $2, tmpfiles into $3, the profile into $4 ('' for none).
packaging_files() {
	local unit
	for unit in privident.socket privident.service privident-inetd.socket \
		privident-inetd@.service; do
		if [ -n "$1" ] && [ -f "$src/packaging/systemd/$unit" ]; then
			echo "644 $1/$unit"
		fi
	done
	[ -z "$2" ] || echo "644 $2/privident.conf"
	[ -z "$3" ] || echo "644 $3/privident.conf"
	if [ -n "$4" ] && [ -f "$src/policy/apparmor/usr.sbin.privident" ]; then
		echo "644 $4/usr.sbin.privident"
	fi
}

# The programs, the man pages and the example: PREFIX and SYSCONFDIR.
base_files() {
	cat <<EOF
755 $1/sbin/privident
755 $1/bin/privident-token
755 $1/bin/privident-query
644 $1/share/man/man8/privident.8
644 $1/share/man/man5/privident.conf.5
644 $1/share/man/man1/privident-query.1
644 $1/share/man/man1/privident-token.1
644 $2/privident/privident.conf
EOF
}

# 1. As the packages build it.
unitdir=$(systemd_var /usr systemdsystemunitdir)
sysusersdir=$(systemd_var /usr sysusersdir)
tmpfilesdir=$(systemd_var /usr tmpfilesdir)
if [ -z "$unitdir" ] || [ -z "$sysusersdir" ] || [ -z "$tmpfilesdir" ]; then
	echo "FAIL: systemd.pc (pkg-config systemd) is not there: it is needed here"
	exit 1
fi
setup "$tmp/a" --prefix=/usr --sysconfdir=/etc
check usr "$tmp/a" "$(base_files /usr /etc
	packaging_files "$unitdir" "$sysusersdir" "$tmpfilesdir" /etc/apparmor.d)"

# 2. Under /opt, no units; sysusers and tmpfiles follow the prefix.
# (ninja regenerates the install plan; nothing is compiled again)
if ! meson configure "$tmp/a" -Dprefix=/opt/privident \
	-Dsysconfdir=/opt/privident/etc -Dsystemdsystemunitdir=no >"$tmp/a.log" 2>&1 ||
	! ninja -C "$tmp/a" "${programs[@]}" >>"$tmp/a.log" 2>&1; then
	cat "$tmp/a.log"
	echo "FAIL: could not reconfigure for /opt/privident"
	exit 1
fi
check opt "$tmp/a" "$(base_files /opt/privident /opt/privident/etc
	packaging_files '' "$(systemd_var /opt/privident sysusersdir)" \
		"$(systemd_var /opt/privident tmpfilesdir)" /opt/privident/etc/apparmor.d)"

# 3. Without systemd.pc: pkg-config sees only the libraries' own files.
mkdir "$tmp/pc"
for lib in libsodium libseccomp libcap-ng; do
	ln -s "$(pkg-config --variable=pcfiledir "$lib")/$lib.pc" "$tmp/pc/"
done
PKG_CONFIG_LIBDIR=$tmp/pc PKG_CONFIG_PATH='' setup "$tmp/b" --prefix=/srv/pi \
	-Dsysusersdir=/srv/sysusers.d -Dtmpfilesdir=no -Dapparmor_profile=false
if grep -qi 'dependency systemd found: YES' "$tmp/b.log"; then
	echo "FAIL: this build was to be without systemd.pc, and found it"
	failed=1
fi
check nosystemdpc "$tmp/b" "$(base_files /srv/pi /srv/pi/etc
	packaging_files /srv/pi/lib/systemd/system /srv/sysusers.d '' '')"

# The install script without DESTDIR: installs where there is nothing,
# keeps what is there.
mkdir -p "$tmp/live/privident"
(unset DESTDIR; "$src/packaging/etc/install-conf" "$src/packaging/etc/privident.conf" \
	"$tmp/live/privident" >/dev/null)
echo "reply = uid" >"$tmp/live/mine.conf"
mkdir -p "$tmp/live2/privident"
cp "$tmp/live/mine.conf" "$tmp/live2/privident/privident.conf"
(unset DESTDIR; "$src/packaging/etc/install-conf" "$src/packaging/etc/privident.conf" \
	"$tmp/live2/privident" >/dev/null)
if cmp -s "$tmp/live/privident/privident.conf" "$src/packaging/etc/privident.conf" &&
	cmp -s "$tmp/live2/privident/privident.conf" "$tmp/live/mine.conf"; then
	echo "ok install-conf: installs the example where none is, keeps an existing file"
else
	echo "FAIL install-conf: without DESTDIR it must install only where no file is"
	failed=1
fi

exit "$failed"
