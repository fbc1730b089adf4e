import CLibPQ
import Foundation

/// A blocking libpq connection for the few places that need PostgreSQL's simple-query protocol
/// (multi-statement migration files), which PostgresNIO does not speak. Used on one thread at a time.
public final class LibPQConnection {
    private let handle: OpaquePointer

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    public init(conninfo: String) throws {
        guard let handle = PQconnectdb(conninfo) else { throw Failure(message: "out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw Failure(message: message)
        }
        self.handle = handle
    }

    deinit { PQfinish(handle) }

    /// Runs one or more statements; returns the rows of the last one as text.
    @discardableResult
    public func execute(_ sql: String) throws -> [[String?]] {
        guard let result = PQexec(handle, sql) else { throw Failure(message: "out of memory") }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            var rows: [[String?]] = []
            for row in 0..<PQntuples(result) {
                rows.append((0..<PQnfields(result)).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
            }
            return rows
        default:
            throw Failure(message: String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Quotes a value as a SQL string literal (standard_conforming_strings is on since 9.1).
    public static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

extension ConnectionSettings {
    /// These settings as a libpq `key=value` string.
    public var conninfo: String {
        func quote(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        var parts = ["host=\(quote(hosts.map(\.host).joined(separator: ",")))", "port=\(quote(hosts.map { String($0.port) }.joined(separator: ",")))",
                     "user=\(quote(user))", "dbname=\(quote(database))", "sslmode=\(sslMode)"]
        if let password { parts.append("password=\(quote(password))") }
        if targetSessionAttrs != "any" { parts.append("target_session_attrs=\(targetSessionAttrs)") }
        if let connectTimeout { parts.append("connect_timeout=\(connectTimeout)") }
        return parts.joined(separator: " ")
    }

    /// What the router asks libpq with: every host, the session attributes, and a bounded wait per host.
    var probeConninfo: String {
        conninfo + (connectTimeout == nil ? " connect_timeout=5" : "") + " application_name='trellis session router'"
    }
}
