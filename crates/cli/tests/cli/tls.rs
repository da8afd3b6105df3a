//! TLS as libpq users expect it (`sslmode`, `sslrootcert`), and Prisma's URL parameters.

use std::process::Command;

use haste_testkit::{Durability, LocalCluster, TempDir, database};

use crate::{haste, migrations};

const SEEN: &str = "CREATE TABLE seen AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();";

#[test]
fn sslmodes_encrypt_and_verify_like_libpq() {
    let Some(plain) = database() else { return };
    let folder = TempDir::new("tls-cluster");
    std::fs::set_permissions(folder.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = |name: &str| folder.path().join(name);
    let (key, crt, ca) = (path("server.key"), path("server.crt"), path("ca.crt"));
    std::fs::write(path("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    // A CA and a server certificate it signed, as managed PostgreSQL services have.
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=haste test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    ];
    for step in steps {
        let made = Command::new("openssl").args(step).current_dir(folder.path()).output();
        if !made.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("SKIP: openssl could not make test certificates: {made:?}");
            return;
        }
    }
    if Command::new("id").arg("-u").output().unwrap().stdout.starts_with(b"0\n") {
        Command::new("chown").arg("postgres:").arg(&key).arg(&crt).status().unwrap();
    }
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let settings = [
        "ssl = on".to_owned(),
        format!("ssl_cert_file = '{}'", crt.display()),
        format!("ssl_key_file = '{}'", key.display()),
    ];
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let cluster = LocalCluster::start_with(folder.path(), Durability::Off, &settings).unwrap();
    let admin = format!("{}/postgres", cluster.url);
    let dir = migrations(&[("1_seen", SEEN)]);
    let root = ca.display().to_string();
    let cases = [
        ("require", "127.0.0.1", String::new(), 0, Some("t")),
        ("disable", "127.0.0.1", String::new(), 0, Some("f")),
        ("verify-full", "localhost", format!("&sslrootcert={root}"), 0, Some("t")),
        ("verify-full", "127.0.0.1", format!("&sslrootcert={root}"), 9, None),
        ("verify-ca", "127.0.0.1", format!("&sslrootcert={root}"), 0, Some("t")),
    ];
    for (number, (mode, host, extra, code, ssl)) in cases.iter().enumerate() {
        let name = format!("tls_{number}");
        haste_testkit::execute(&admin, &format!("CREATE DATABASE {name}"));
        let url = format!("postgres://postgres:secret@{host}:{}/{name}?sslmode={mode}{extra}", cluster.port);
        let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
        assert_eq!(run.code, *code, "{mode} via {host}: {run:?}");
        if let Some(ssl) = ssl {
            let db_url = format!("{}/{name}", cluster.url);
            assert_eq!(
                haste_testkit::query(&db_url, "SELECT ssl FROM seen")[0][0].as_deref(),
                Some(*ssl),
                "{mode}"
            );
        }
    }
    cluster.stop().unwrap();

    let refused =
        haste(dir.path(), &["migrate", "deploy", "--url", &format!("{}?sslmode=require", plain.url)]);
    assert_eq!(refused.code, 9, "a server without TLS refuses sslmode=require: {refused:?}");
}

#[test]
fn prisma_urls_work_as_prisma_reads_them() {
    let Some(db) = database() else { return };
    let dir = migrations(&[("1_contacts", "CREATE TABLE contacts (id text PRIMARY KEY);")]);
    let url = format!("{}?schema=crm&connection_limit=5&pool_timeout=10&pgbouncer=false", db.url);
    let run = haste(dir.path(), &["migrate", "deploy", "--url", &url]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        db.value("SELECT to_regclass('crm.contacts') IS NOT NULL").as_deref(),
        Some("t"),
        "unqualified names go to the schema"
    );
    assert_eq!(
        db.value("SELECT to_regclass('crm._haste_migrations') IS NOT NULL").as_deref(),
        Some("t"),
        "history beside them, like _prisma_migrations"
    );
    let status = haste(dir.path(), &["migrate", "status", "--url", &url]);
    assert_eq!(status.code, 0, "{status:?}");
    let backup = dir.path().join("backup.sql");
    let with_backup =
        haste(dir.path(), &["migrate", "deploy", "--url", &url, "--backup", backup.to_str().unwrap()]);
    assert_eq!(with_backup.code, 0, "pg_dump gets a URL without Prisma's parameters: {with_backup:?}");
}
