# shellcheck shell=bash
# Sourced by .ci/run: makes sure a MariaDB server runs on this machine, creates a
# dedicated test user, and exports ELENTRA_TEAMS_TEST_DSN for the database tests.
# Works on a fresh Debian machine (installs and starts mariadb-server) and on one
# where MariaDB already runs. Safe under `set -euo pipefail`; idempotent.

elentra_teams_test_user=elentra_teams_test
# An obviously fake password: the user exists only on CI and developer machines.
elentra_teams_test_password=fake-ci-password-not-a-secret

elentra_teams_mariadb_ping() {
	# Socket first (root is often socket-only on a fresh install), then TCP.
	mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1 ||
		mariadb-admin --protocol=tcp -h127.0.0.1 -P3306 -uroot ping >/dev/null 2>&1
}

elentra_teams_mariadb_root() {
	if mariadb --protocol=socket -uroot -e 'SELECT 1' >/dev/null 2>&1; then
		mariadb --protocol=socket -uroot "$@"
	else
		mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot "$@"
	fi
}

elentra_teams_mariadb_setup() {
	if [ ! -x /usr/sbin/mariadbd ]; then
		echo "mariadb.sh: installing mariadb-server" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq mariadb-server >/dev/null
	fi

	if ! elentra_teams_mariadb_ping; then
		echo "mariadb.sh: starting mariadbd" >&2
		mkdir -p /run/mysqld
		chown mysql:mysql /run/mysqld
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
		local waited=0
		until elentra_teams_mariadb_ping; do
			if [ "$waited" -ge 60 ]; then
				echo "mariadb.sh: mariadbd did not answer within 60 s" >&2
				return 1
			fi
			sleep 1
			waited=$((waited + 1))
		done
	fi

	# The go-sql-driver connects over TCP; depending on name resolution the server
	# sees 127.0.0.1 or localhost, so the user exists for both (and ::1).
	local host sql=""
	for host in 127.0.0.1 localhost ::1; do
		sql+="CREATE USER IF NOT EXISTS '${elentra_teams_test_user}'@'${host}' IDENTIFIED BY '${elentra_teams_test_password}';"
		sql+="ALTER USER '${elentra_teams_test_user}'@'${host}' IDENTIFIED BY '${elentra_teams_test_password}';"
		# Tests create and drop their own databases (et_<random>), so the user
		# needs server-wide rights; the grants test also creates a user with
		# the minimal grants check-config advises, hence GRANT OPTION.
		sql+="GRANT ALL ON *.* TO '${elentra_teams_test_user}'@'${host}' WITH GRANT OPTION;"
	done
	elentra_teams_mariadb_root -e "$sql"

	export ELENTRA_TEAMS_TEST_DSN="${elentra_teams_test_user}:${elentra_teams_test_password}@tcp(127.0.0.1:3306)/"
	echo "mariadb.sh: tests use MariaDB at 127.0.0.1:3306 as ${elentra_teams_test_user}" >&2
}

elentra_teams_mariadb_setup
