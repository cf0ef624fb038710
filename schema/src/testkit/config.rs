//! The generated server configuration: everything inside the temp dir, loopback only, no
//! interserver port, UTC, small caches so many test servers fit on one machine.

use std::path::Path;

/// Ports the server listens on (127.0.0.1 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub http: u16,
    pub tcp: u16,
}

/// `config.xml` for a server rooted at `root`. `<yandex>` is the root element 18.16 requires;
/// current releases still accept it.
pub fn server_xml(root: &Path, ports: Ports) -> String {
    let root = root.display();
    format!(
        r#"<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>{root}/logs/server.log</log>
        <errorlog>{root}/logs/server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{http}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <path>{root}/data/</path>
    <tmp_path>{root}/tmp/</tmp_path>
    <user_files_path>{root}/user_files/</user_files_path>
    <format_schema_path>{root}/format_schemas/</format_schema_path>
    <users_config>{root}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <max_concurrent_queries>100</max_concurrent_queries>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
</yandex>
"#,
        http = ports.http,
        tcp = ports.tcp,
    )
}

/// The read-only user reports and the log explorer run as in tests.
pub const READER_USER: &str = "warden_reader";
/// Its password (the server is private to one test, on loopback).
pub const READER_PASSWORD: &str = "reader-test-password";

/// `users.xml`: user `default`, no password, loopback only, no quotas; and the reader as
/// 18.16 defines one (no SQL users there): only the `warden` database, and a profile that pins
/// `readonly=1`, which forbids writes, settings changes and table functions alike.
pub fn users_xml() -> &'static str {
    r#"<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
        <reader>
            <readonly>1</readonly>
            <max_execution_time>60</max_execution_time>
            <max_memory_usage>2000000000</max_memory_usage>
        </reader>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <warden_reader>
            <password>reader-test-password</password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>reader</profile>
            <quota>default</quota>
            <allow_databases>
                <database>warden</database>
            </allow_databases>
        </warden_reader>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"#
}

/// The directories the config names, relative to the root.
pub const DIRS: [&str; 5] = ["data", "tmp", "user_files", "format_schemas", "logs"];
