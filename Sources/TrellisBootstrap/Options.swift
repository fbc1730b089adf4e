import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import PostgresNIO
import TrellisStore

/// A flag wins over its environment variable, which wins over the default.
public func setting<T: LosslessStringConvertible>(_ flag: T?, env name: String, default fallback: T) throws -> T {
    try setting(flag, env: name) ?? fallback
}

/// A flag wins over its environment variable; nil when neither is set (an optional feature, such as a port).
public func setting<T: LosslessStringConvertible>(_ flag: T?, env name: String) throws -> T? {
    if let flag { return flag }
    guard let raw = ProcessInfo.processInfo.environment[name], !raw.isEmpty else { return nil }
    guard let value = T(raw) else { throw ValidationError("environment variable \(name)=\(raw) is not valid") }
    return value
}

/// A switch: `true`/`false`, `1`/`0`, `yes`/`no` (any case) in the environment.
public func setting(_ flag: Bool?, env name: String, default fallback: Bool) throws -> Bool {
    if let flag { return flag }
    guard let raw = ProcessInfo.processInfo.environment[name], !raw.isEmpty else { return fallback }
    switch raw.lowercased() {
    case "true", "1", "yes": return true
    case "false", "0", "no": return false
    default: throw ValidationError("environment variable \(name)=\(raw) is not valid: use true or false")
    }
}

public func setting(_ flag: String?, env name: String) -> String? {
    flag ?? ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}

/// Options every executable shares.
public struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq connection string, URI or key=value (env: DATABASE_URL; PG* variables and ~/.pgpass apply)")
    public var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (env: LOG_LEVEL)")
    public var logLevel: String?

    @Option(name: .customLong("log-format"), help: "json or text (env: LOG_FORMAT)")
    public var logFormat: String?

    @Option(name: .customLong("db-pool-size"), help: "maximum database connections (env: DB_POOL_SIZE)")
    public var poolSize: Int?

    public init() {}

    public func bootstrapLogging() throws {
        let levelName = setting(logLevel, env: "LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else { throw ValidationError("unknown log level \(levelName)") }
        LogSetup.bootstrap(level: level, format: setting(logFormat, env: "LOG_FORMAT"))
    }

    /// The OTLP trace exporter when `OTEL_*` asks for one (see `TraceExport`), bootstrapped now so that what is
    /// built next (the router's request spans) sees the tracer; hand it to `runServices`. Nil when traces are off.
    public func bootstrapTracing(serviceName: String) throws -> (any Service)? {
        try TraceExport.service(name: serviceName, environment: ProcessInfo.processInfo.environment)
    }

    /// Parsed by libpq; a bad string is refused here, at start-up, with libpq's own message.
    public func connectionSettings() throws -> ConnectionSettings {
        do {
            return try ConnectionSettings.parse(setting(databaseURL, env: "DATABASE_URL"))
        } catch let error as ConnectionSettings.InvalidConnectionString {
            throw ValidationError(error.description)
        }
    }

    /// The services' database client; first refuses a role that row-level security would not bind
    /// (superuser, BYPASSRLS, table owner): see `DatabaseRoleGuard`.
    public func makeClient(logger: Logger) throws -> PostgresClient {
        let size = try setting(poolSize, env: "DB_POOL_SIZE", default: 10)
        let settings = try connectionSettings()
        try DatabaseRoleGuard.enforce(conninfo: settings.conninfo + (settings.connectTimeout == nil ? " connect_timeout=5" : ""), logger: logger)
        do {
            return try settings.makeClient(maximumConnections: size, logger: logger)
        } catch let error as ConnectionSettings.InvalidConnectionString {
            throw ValidationError(error.description)
        }
    }
}
