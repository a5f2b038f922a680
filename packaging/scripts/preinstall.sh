#!/bin/sh
# Creates the system account that /etc/cron.d/elentra-teams runs the sync as,
# and that owns /etc/elentra-teams by group. The deb preinst and the rpm %pre
# run this before every install and upgrade, so it changes nothing when the
# account is already there.
set -e

account=elentra-teams
home=/var/lib/elentra-teams
shell=/usr/sbin/nologin

if getent passwd "$account" >/dev/null 2>&1; then
	exit 0
fi

# A group of that name made by hand beforehand is joined, not re-created.
if command -v useradd >/dev/null 2>&1; then
	if getent group "$account" >/dev/null 2>&1; then
		group_opt="--gid $account"
	else
		group_opt="--user-group"
	fi
	# shellcheck disable=SC2086 # group_opt is two words on purpose
	useradd --system $group_opt --home-dir "$home" --no-create-home \
		--shell "$shell" --comment "elentra-teams sync" "$account"
elif command -v adduser >/dev/null 2>&1; then
	if getent group "$account" >/dev/null 2>&1; then
		group_opt="--ingroup $account"
	else
		group_opt="--group"
	fi
	# shellcheck disable=SC2086
	adduser --system $group_opt --home "$home" --no-create-home \
		--shell "$shell" "$account"
else
	echo "elentra-teams: neither useradd nor adduser is installed; create the system user $account by hand" >&2
	exit 1
fi
