import CLibPQ
import Foundation
import PostgresNIO

/// `DATABASE_URL` in any form libpq accepts — a URI or `key=value` pairs — with the PG* environment
/// variables and the password file as fallbacks, parsed by the system libpq so the platform connects
/// exactly as `psql` would. Only the wire protocol is PostgresNIO's.
public struct ConnectionSettings: Sendable, Equatable {
    /// The first host of the list (what a single-host URL names).
    public var host: String
    public var port: Int
    /// Every host of the list with its port, in order (libpq's `host=a,b port=5432,5433`).
    public var hosts: [HostPort]
    /// libpq's `target_session_attrs`: `any`, `read-write`, `read-only`, `primary`, `standby`, `prefer-standby`.
    public var targetSessionAttrs: String
    /// libpq's `connect_timeout`, in seconds; nil: libpq's default (wait as long as the network does).
    public var connectTimeout: Int?
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: String
    public var applicationName: String?

    public struct HostPort: Sendable, Equatable {
        public var host: String
        public var port: Int
    }

    /// Sessions go through a `SessionRouter` when libpq would choose among hosts or check what a server is.
    public var needsHostSelection: Bool { hosts.count > 1 || targetSessionAttrs != "any" }

    public struct InvalidConnectionString: Error, CustomStringConvertible {
        /// libpq's own message.
        public var message: String
        public var description: String { "invalid DATABASE_URL: \(message)" }
    }

    /// Parses `conninfo` (nil or empty: defaults only). `environment` stands in for the process
    /// environment so tests can exercise the PG* fallbacks without touching the real one.
    public static func parse(_ conninfo: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConnectionSettings {
        var explicit: [String: String] = [:]
        if let conninfo, !conninfo.isEmpty {
            var errorMessage: UnsafeMutablePointer<CChar>?
            guard let options = PQconninfoParse(conninfo, &errorMessage) else {
                let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
                if let errorMessage { PQfreemem(errorMessage) }
                throw InvalidConnectionString(message: message.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            defer { PQconninfoFree(options) }
            var option = options
            while let keyword = option.pointee.keyword {
                if let value = option.pointee.val {
                    explicit[String(cString: keyword)] = String(cString: value)
                }
                option = option.advanced(by: 1)
            }
        }
        func value(_ keyword: String, _ variable: String) -> String? {
            if let v = explicit[keyword], !v.isEmpty { return v }
            if let v = environment[variable], !v.isEmpty { return v }
            return nil
        }
        let user = value("user", "PGUSER") ?? environment["USER"] ?? "postgres"
        // libpq accepts a list of hosts and one port for all or one per host.
        let hostNames = (value("host", "PGHOST") ?? value("hostaddr", "PGHOSTADDR") ?? "/var/run/postgresql")
            .split(separator: ",", omittingEmptySubsequences: false).map { $0.isEmpty ? "/var/run/postgresql" : String($0) }
        let portString = value("port", "PGPORT") ?? "5432"
        let portTexts = portString.split(separator: ",", omittingEmptySubsequences: false).map { $0.isEmpty ? "5432" : String($0) }
        guard portTexts.count == 1 || portTexts.count == hostNames.count else {
            throw InvalidConnectionString(message: "could not match \(portTexts.count) port numbers to \(hostNames.count) hosts")
        }
        var hosts: [HostPort] = []
        for (index, name) in hostNames.enumerated() {
            let text = portTexts.count == 1 ? portTexts[0] : portTexts[index]
            guard let number = Int(text), (1...65535).contains(number) else {
                throw InvalidConnectionString(message: "invalid port number: \"\(text)\"")
            }
            hosts.append(HostPort(host: name, port: number))
        }
        let (host, port) = (hosts[0].host, hosts[0].port)
        let targetSessionAttrs = value("target_session_attrs", "PGTARGETSESSIONATTRS") ?? "any"
        guard ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"].contains(targetSessionAttrs) else {
            throw InvalidConnectionString(message: "invalid target_session_attrs value: \"\(targetSessionAttrs)\"")
        }
        var connectTimeout: Int?
        if let text = value("connect_timeout", "PGCONNECT_TIMEOUT") {
            guard let seconds = Int(text) else { throw InvalidConnectionString(message: "invalid integer value \"\(text)\" for connection option \"connect_timeout\"") }
            connectTimeout = seconds
        }
        let database = value("dbname", "PGDATABASE") ?? user
        let sslMode = value("sslmode", "PGSSLMODE") ?? "prefer"
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode) else {
            throw InvalidConnectionString(message: "invalid sslmode value: \"\(sslMode)\"")
        }
        var password = value("password", "PGPASSWORD")
        if password == nil {
            let passfile = value("passfile", "PGPASSFILE") ?? environment["HOME"].map { $0 + "/.pgpass" }
            if let passfile {
                password = PasswordFile.lookup(
                    path: passfile, host: host.hasPrefix("/") ? "localhost" : host, port: port, database: database, user: user)
            }
        }
        return ConnectionSettings(
            host: host, port: port, hosts: hosts, targetSessionAttrs: targetSessionAttrs, connectTimeout: connectTimeout,
            user: user, password: password, database: database, sslMode: sslMode, applicationName: value("application_name", "PGAPPNAME"))
    }

    /// A client for these settings; with several hosts or `target_session_attrs`, its sessions go through a
    /// `SessionRouter` (started here, for the life of the process), which picks the server as libpq does.
    public func makeClient(maximumConnections: Int, logger: Logger) throws -> PostgresClient {
        guard needsHostSelection else {
            return PostgresClient(configuration: clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
        }
        if sslMode == "verify-full" || sslMode == "verify-ca" {
            // Through the router the client would check the certificate against 127.0.0.1, never the server's name.
            throw InvalidConnectionString(message: "sslmode=\(sslMode) with several hosts or target_session_attrs is not supported; use require")
        }
        let router = try SessionRouter.start(self, logger: logger)
        var routed = self
        (routed.host, routed.port) = ("127.0.0.1", router.port)
        return PostgresClient(configuration: routed.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
    }

    /// The PostgresNIO configuration for these settings (the first host; `makeClient` routes a host list).
    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if host.hasPrefix("/") {
            configuration = .init(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch sslMode {
            case "disable": tls = .disable
            case "require", "verify-ca", "verify-full":
                var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                if sslMode == "require" { tlsConfiguration.certificateVerification = .none }
                tls = .require(tlsConfiguration)
            default:
                var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                tlsConfiguration.certificateVerification = .none
                tls = .prefer(tlsConfiguration)
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        // Every statement of the platform is short; PostgreSQL's JIT would compile the queue's fetch (its cost
        // estimate passes jit_above_cost) for ~35 ms on each call, more than the fetch itself.
        configuration.options.additionalStartupParameters = [("jit", "off")]
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        return configuration
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> ConnectionSettings {
        var copy = self
        copy.database = database
        return copy
    }

    public func with(user: String, password: String?) -> ConnectionSettings {
        var copy = self
        copy.user = user
        copy.password = password
        return copy
    }
}

/// The `~/.pgpass` format: `host:port:database:user:password`, `*` matches anything, `\` escapes.
enum PasswordFile {
    static func lookup(path: String, host: String, port: Int, database: String, user: String) -> String? {
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in contents.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = split(String(line))
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    private static func split(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
