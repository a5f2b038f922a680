#!/usr/bin/env bash
# Release check, in two parts.
#
# 1. Always: packaging/nfpmcheck (a module of its own, so nfpm stays out of
#    go.mod) packs the .deb that .goreleaser.yaml describes with nfpm, the
#    library goreleaser uses, and checks its files, owners, modes, conffiles
#    and preinst. About 20 s warm; 2.5 minutes on an empty build cache.
# 2. When goreleaser is installed: `goreleaser check`, then a linux/amd64
#    snapshot release whose .deb is listed with dpkg-deb and checked, and whose
#    binary must report the version and commit goreleaser gave it. About 30 s,
#    1.5 minutes when the -trimpath build is not cached.
#
# goreleaser is not installed by default: `go install` of it takes about five
# minutes on a fresh 2-core machine (3.5 minutes of compiling once its 1.9 GB
# of modules are downloaded). RELEASE_CHECK_INSTALL=1 installs it into
# $(go env GOPATH)/bin, where later runs find it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

echo "release-check: the .deb of .goreleaser.yaml, packed with nfpm"
# -count=1: the test reads files outside its module, which go test's cache
# does not track.
(cd packaging/nfpmcheck && go test -count=1 ./...)

goreleaser_version=v2.15.1
gobin="$(go env GOPATH)/bin"
goreleaser="$gobin/goreleaser"
if ! "$goreleaser" --version 2>/dev/null | grep -q "GitVersion:.*${goreleaser_version#v}$"; then
	if [ "${RELEASE_CHECK_INSTALL:-}" != 1 ]; then
		echo "release-check: goreleaser $goreleaser_version is not in $gobin; skipping goreleaser check and the snapshot"
		echo "release-check: (RELEASE_CHECK_INSTALL=1 installs it, about five minutes the first time)"
		echo "release-check: ok"
		exit 0
	fi
	echo "release-check: installing goreleaser $goreleaser_version into $gobin"
	GOBIN="$gobin" go install "github.com/goreleaser/goreleaser/v2@$goreleaser_version"
fi

"$goreleaser" check

# A clone without a remote makes goreleaser drop the commit and its date
# (it reads them together with the remote URL); name the project's remote
# through the environment, leaving the clone's own configuration alone.
if [ -z "$(git remote)" ]; then
	export GIT_CONFIG_COUNT=1
	export GIT_CONFIG_KEY_0=remote.origin.url
	export GIT_CONFIG_VALUE_0=https://github.com/elentra-teams/elentra-teams.git
fi

# goreleaser OSS has no target filter for `release`, so it reads a copy of the
# configuration, from stdin, whose builds are linux/amd64 only.
filtered=$(sed -e 's/^\(\s*goos:\).*/\1 [linux]/' -e 's/^\(\s*goarch:\).*/\1 [amd64]/' .goreleaser.yaml)
if ! grep -q 'goos: \[linux\]$' <<<"$filtered" || ! grep -q 'goarch: \[amd64\]$' <<<"$filtered"; then
	echo "release-check: could not narrow the builds of .goreleaser.yaml to linux/amd64" >&2
	exit 1
fi
"$goreleaser" release --snapshot --clean --config - <<<"$filtered"

shopt -s nullglob
debs=(dist/*_amd64.deb)
if [ "${#debs[@]}" -ne 1 ]; then
	echo "release-check: want one amd64 .deb in dist/, found ${#debs[@]}" >&2
	exit 1
fi
deb=${debs[0]}
echo "release-check: contents of $deb"
listing=$(dpkg-deb -c "$deb")
echo "$listing"

fail=0
want() { # want MODE OWNER/GROUP PATH: one line of the listing has all three
	if ! awk -v mode="$1" -v owner="$2" -v path="./$3" \
		'$1 == mode && $2 == owner && $NF == path { found = 1 } END { exit !found }' <<<"$listing"; then
		echo "release-check: $deb lacks $1 $2 $3" >&2
		fail=1
	fi
}
want -rwxr-xr-x root/root usr/bin/elentra-teams
want drwxr-x--- root/elentra-teams etc/elentra-teams/
want -rw-r----- root/elentra-teams etc/elentra-teams/config.yaml
want -rw-r--r-- root/root etc/cron.d/elentra-teams
want -rw-r--r-- root/root usr/share/man/man1/elentra-teams.1.gz
want -rw-r--r-- root/root usr/share/man/man1/elentra-teams-sync.1.gz
want -rw-r--r-- root/root usr/share/bash-completion/completions/elentra-teams
want -rw-r--r-- root/root usr/share/zsh/vendor-completions/_elentra-teams
want -rw-r--r-- root/root usr/share/fish/vendor_completions.d/elentra-teams.fish

conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
for f in /etc/elentra-teams/config.yaml /etc/cron.d/elentra-teams; do
	if ! grep -qx "$f" <<<"$conffiles"; then
		echo "release-check: $f is not a conffile, an upgrade would overwrite the admin's edits" >&2
		fail=1
	fi
done
if ! dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx './preinst'; then
	echo "release-check: $deb has no preinst to create the elentra-teams user" >&2
	fail=1
fi

# The packaged binary reports the snapshot version set through -ldflags -X.
version=$(dpkg-deb -f "$deb" Version)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
reported=$("$tmp/usr/bin/elentra-teams" version)
echo "release-check: packaged binary says: $reported"
# Debian spells the snapshot's "-next" as "~next".
if [[ "$reported" != "elentra-teams ${version//\~/-} "* ]]; then
	echo "release-check: packaged binary reports \"$reported\", want version ${version//\~/-}" >&2
	fail=1
fi
commit=$(git rev-parse --short=12 HEAD)
if [[ "$reported" != *"(commit $commit, built "* ]]; then
	echo "release-check: packaged binary does not report commit $commit and a build date" >&2
	fail=1
fi
if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "release-check: ok"
