import Foundation
import Logging
import Testing
@testable import TrellisStore

@Suite("DATABASE_URL through libpq")
struct ConnectionSettingsTests {
    @Test func uriForm() throws {
        let s = try ConnectionSettings.parse("postgresql://alice:s%40cret@db.example:6543/trellis?sslmode=disable&application_name=api", environment: [:])
        #expect(s.host == "db.example")
        #expect(s.port == 6543)
        #expect(s.user == "alice")
        #expect(s.password == "s@cret")
        #expect(s.database == "trellis")
        #expect(s.sslMode == "disable")
        #expect(s.applicationName == "api")
    }

    @Test func keyValueForm() throws {
        let s = try ConnectionSettings.parse("host=10.1.2.3 port=5433 user=bob password='it\\'s' dbname=agency sslmode=require", environment: [:])
        #expect(s.host == "10.1.2.3")
        #expect(s.port == 5433)
        #expect(s.user == "bob")
        #expect(s.password == "it's")
        #expect(s.database == "agency")
        #expect(s.sslMode == "require")
    }

    @Test func unixSocketHostBecomesSocketPath() throws {
        let s = try ConnectionSettings.parse("postgresql:///trellis?host=/var/run/postgresql&port=5432", environment: ["USER": "carol"])
        #expect(s.host == "/var/run/postgresql")
        #expect(s.user == "carol")
        #expect(s.clientConfiguration().unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
    }

    @Test func environmentVariablesFillWhatTheStringLeavesOut() throws {
        let env = ["PGHOST": "pg.internal", "PGPORT": "6000", "PGUSER": "dora", "PGPASSWORD": "pw", "PGDATABASE": "fromenv", "PGSSLMODE": "disable"]
        let fromEnv = try ConnectionSettings.parse(nil, environment: env)
        #expect(fromEnv == ConnectionSettings(
            host: "pg.internal", port: 6000, hosts: [.init(host: "pg.internal", port: 6000)], targetSessionAttrs: "any", connectTimeout: nil, user: "dora", password: "pw", database: "fromenv", sslMode: "disable", applicationName: nil))
        // The string wins over the environment.
        let mixed = try ConnectionSettings.parse("dbname=explicit port=7000", environment: env)
        #expect(mixed.database == "explicit")
        #expect(mixed.port == 7000)
        #expect(mixed.host == "pg.internal")
    }

    @Test func passwordFileIsTheLastFallback() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)")
        try """
            # comment
            other.host:5432:*:erin:wrong
            db.example:5432:trellis:erin:pa\\:ss
            *:*:*:*:fallback
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let s = try ConnectionSettings.parse("postgres://erin@db.example/trellis", environment: ["PGPASSFILE": file.path])
        #expect(s.password == "pa:ss")
        let other = try ConnectionSettings.parse("postgres://frank@elsewhere/x", environment: ["PGPASSFILE": file.path])
        #expect(other.password == "fallback")
        let explicit = try ConnectionSettings.parse("postgres://erin:given@db.example/trellis", environment: ["PGPASSFILE": file.path])
        #expect(explicit.password == "given")
    }

    @Test func aBadStringIsRefusedWithLibpqsOwnMessage() throws {
        #expect {
            try ConnectionSettings.parse("host=db port", environment: [:])
        } throws: { error in
            let message = (error as? ConnectionSettings.InvalidConnectionString)?.message ?? ""
            return message.contains("missing \"=\" after \"port\"")
        }
        #expect(throws: ConnectionSettings.InvalidConnectionString.self) {
            try ConnectionSettings.parse("postgresql://host:notaport/db", environment: [:])
        }
        #expect(throws: ConnectionSettings.InvalidConnectionString.self) {
            try ConnectionSettings.parse("nosuchkey=1", environment: [:])
        }
    }

    @Test func aHostListWithItsPortsAndTheSessionAttributes() throws {
        let s = try ConnectionSettings.parse(
            "postgresql://app@h1:5432,h2:5433/trellis?target_session_attrs=read-write&connect_timeout=3", environment: [:])
        #expect(s.hosts == [.init(host: "h1", port: 5432), .init(host: "h2", port: 5433)])
        #expect((s.host, s.port) == ("h1", 5432))
        #expect(s.targetSessionAttrs == "read-write" && s.connectTimeout == 3 && s.needsHostSelection)
        #expect(s.conninfo.contains("host='h1,h2'") && s.conninfo.contains("port='5432,5433'") && s.conninfo.contains("target_session_attrs=read-write"))
        // One port for every host, as libpq reads it; PGHOST lists too.
        let shared = try ConnectionSettings.parse("dbname=t", environment: ["PGHOST": "a,b", "PGPORT": "6000", "PGUSER": "u"])
        #expect(shared.hosts == [.init(host: "a", port: 6000), .init(host: "b", port: 6000)])
        // A single host without attributes connects directly, as before.
        #expect(try ConnectionSettings.parse("postgres://u@db/t", environment: [:]).needsHostSelection == false)
    }

    @Test func badHostListsAndAttributesAreRefused() throws {
        #expect(throws: ConnectionSettings.InvalidConnectionString.self) {
            try ConnectionSettings.parse("host=a,b,c port=1,2 dbname=t", environment: [:])
        }
        #expect(throws: ConnectionSettings.InvalidConnectionString.self) {
            try ConnectionSettings.parse("postgres://u@a,b/t?target_session_attrs=writable", environment: [:])
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        // Through the router a certificate would be checked against 127.0.0.1: refused at start-up, with the reason.
        let verified = try ConnectionSettings.parse("postgres://u@a,b/t?sslmode=verify-full", environment: [:])
        #expect(throws: ConnectionSettings.InvalidConnectionString.self) { try verified.makeClient(maximumConnections: 1, logger: logger) }
    }
}
