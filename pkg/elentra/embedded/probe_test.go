package embedded

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/go-sql-driver/mysql"
)

func TestProbe(t *testing.T) {
	dsn, stop, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	db, err := sql.Open("mysql", dsn+"?parseTime=true&charset=utf8mb4&collation=utf8mb4_unicode_ci&loc=UTC")
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		"CREATE DATABASE et_a",
		"CREATE DATABASE et_a_auth",
		"SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO'",
		"CREATE TABLE et_a.courses (course_id int(12) NOT NULL AUTO_INCREMENT, course_name varchar(85) NOT NULL DEFAULT '', ctype enum('a','b') NOT NULL DEFAULT 'a', start bigint(64) NOT NULL DEFAULT '0', notes text NOT NULL, PRIMARY KEY (course_id), KEY ctype (ctype)) ENGINE=MyISAM DEFAULT CHARSET=utf8",
		"CREATE TABLE et_a_auth.user_data (id int(12) NOT NULL AUTO_INCREMENT, username varchar(255) NOT NULL, `group` varchar(35) NOT NULL DEFAULT '', PRIMARY KEY (id), UNIQUE KEY username (username)) ENGINE=MyISAM DEFAULT CHARSET=utf8",
		"INSERT INTO et_a.courses (course_name, notes) VALUES ('Hélène O''Brien', ''), ('Zoë', 'x')",
		"INSERT INTO et_a_auth.user_data (id, username, `group`) VALUES (1,'a','student'),(2,'b','x')",
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	_, err = db.Exec("INSERT INTO et_a.courses (course_name) VALUES ('no notes')")
	t.Logf("missing not null: %v", err)
	var n int
	err = db.QueryRow("SELECT COUNT(*) FROM `et_a`.`courses` c JOIN `et_a_auth`.`user_data` u ON u.id = c.course_id WHERE u.`group` = ? AND c.start <= ? UNION SELECT 5", "student", int64(1700000000)).Scan(&n)
	t.Logf("join: %d %v", n, err)
	var got sql.NullInt64
	err = db.QueryRow("SELECT GET_LOCK('x', 0)").Scan(&got)
	t.Logf("getlock: %v %v", got, err)
	err = db.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", "et_a", "courses").Scan(&n)
	t.Logf("is: %d %v", n, err)
	var name string
	err = db.QueryRow("SELECT course_name FROM et_a.courses WHERE course_id = ?", 1).Scan(&name)
	t.Logf("name: %q %v", name, err)
	var mode string
	err = db.QueryRow("SELECT @@sql_mode").Scan(&mode)
	t.Logf("mode: %q %v", mode, err)
	_, err = db.Exec("DROP DATABASE et_a")
	t.Logf("drop: %v", err)
	var cid int64
	r, err := db.Exec("INSERT INTO et_a_auth.user_data (username) VALUES (?)", "zz")
	if err == nil {
		cid, err = r.LastInsertId()
	}
	t.Logf("lastid: %d %v", cid, err)
}
