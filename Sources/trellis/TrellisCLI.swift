import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TrellisBootstrap
import TrellisDomain
import TrellisHTTP
import TrellisStore

/// The admin CLI. Reads `DATABASE_URL` (a role that owns the schema, for `migrate`).
@main
struct TrellisCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trellis",
        abstract: "Trellis admin: migrations, demo data, agencies, tokens, local development.",
        subcommands: [Migrate.self, SeedDemo.self, AgencyCommand.self, TokenCommand.self, PlansCommand.self, ExportCommand.self, Dev.self, Bench.self])
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations from sql/, each in one transaction.")

    @OptionGroup var common: CommonOptions
    @Option(help: "directory of numbered .sql files (env: TRELLIS_SQL_DIR)") var sqlDir: String?

    func run() async throws {
        try common.bootstrapLogging()
        let directory = setting(sqlDir, env: "TRELLIS_SQL_DIR").map { URL(fileURLWithPath: $0) } ?? ProjectFiles.sqlDirectory
        let runner = MigrationRunner(conninfo: try common.connectionSettings().conninfo, migrations: try Migration.load(directory: directory))
        let applied = try await runner.migrate()
        print(applied.isEmpty ? "migrations: nothing pending" : "migrations: applied \(applied.joined(separator: ", "))")
    }
}

extension LocalDate {
    /// The CLI's clock read: the domain itself never reads one.
    static var today: LocalDate { LocalDate(dayNumber: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down))) }
}

/// Runs `body` with a running client for the CLI's one-shot work.
func withClient<T: Sendable>(_ common: CommonOptions, _ body: @Sendable (TenantDatabase) async throws -> T) async throws -> T {
    try await withClient(try common.connectionSettings(), body)
}

func withClient<T: Sendable>(_ settings: ConnectionSettings, _ body: @Sendable (TenantDatabase) async throws -> T) async throws -> T {
    var logger = Logger(label: "trellis")
    // The first query may be queued a moment before run() starts: PostgresNIO warns, then serves it.
    logger.logLevel = .error
    let client = try settings.makeClient(maximumConnections: 4, logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await client.run(); return nil }
        defer { group.cancelAll() }
        return try await body(TenantDatabase(client: client, logger: logger))
    }
}

struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo", abstract: "Seed the demo agency (idempotent): two client brands, hybrid people, assignments.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        try common.bootstrapLogging()
        let result = try await withClient(common) { try await DemoData.seed(database: $0, today: .today) }
        print(result.created ? "demo agency created: \(DemoData.agencySlug)" : "demo agency already present: \(DemoData.agencySlug)")
    }
}

struct AgencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agency", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an agency with its owner; prints an API token for the owner once.")

        @OptionGroup var common: CommonOptions
        @Option(help: "agency name") var name: String
        @Option(help: "agency slug (sign-in name)") var slug: String?
        @Option(help: "owner's email") var ownerEmail: String
        @Option(help: "owner's display name") var ownerName: String = "Owner"
        @Option(help: "owner's password for the web app (env: OWNER_PASSWORD)") var ownerPassword: String?

        func run() async throws {
            try common.bootstrapLogging()
            let slug = self.slug ?? Slug.make(from: name)
            guard Slug.isValid(slug) else { throw ValidationError("slug \(slug) must be lowercase letters, digits or hyphens") }
            let owner = MemberDraft(email: ownerEmail, displayName: ownerName, role: .owner, clientID: nil, weeklyCapacityHours: 40)
            do { try owner.validate() } catch { throw ValidationError("\(error.errors.map { "\($0.field) \($0.message)" })") }
            let password = setting(ownerPassword, env: "OWNER_PASSWORD")
            let name = self.name
            let created = try await withClient(common) { database in
                try await AgencyProvisioning.createAgency(database: database, name: name, slug: slug, owner: owner, passwordHash: password.map(PasswordHashing.hash))
            }
            print("agency \(created.0.rawValue.uuidString.lowercased()) (\(slug)) created")
            print("owner API token (shown once): \(created.secret)")
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", subcommands: [Create.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token for a member; the secret is printed once.")
        @OptionGroup var common: CommonOptions
        @Option(help: "agency slug") var agency: String
        @Option(help: "member email") var email: String
        @Option(help: "a label for the token") var name: String = "cli"

        func run() async throws {
            try common.bootstrapLogging()
            let (agency, email, name) = (self.agency, self.email, self.name)
            let secret = try await withClient(common) { database in
                try await AgencyProvisioning.createToken(database: database, agencySlug: agency, email: email, name: name)
            }
            print(secret)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API token by id.")
        @OptionGroup var common: CommonOptions
        @Option(help: "agency slug") var agency: String
        @Argument(help: "token id") var id: String

        func run() async throws {
            try common.bootstrapLogging()
            guard let tokenID = UUID(uuidString: id) else { throw ValidationError("\(id) is not a token id") }
            let agency = self.agency
            try await withClient(common) { database in
                guard let agencyID = try await database.withSystem({ try await CredentialStore(logger: database.logger).agencyID(slug: agency, on: $0) }) else {
                    throw ValidationError("no agency \(agency)")
                }
                _ = try await database.withTenant(agencyID) { try await CredentialStore(logger: database.logger).revokeToken(tokenID, on: $0) }
            }
            print("revoked \(id)")
        }
    }
}

