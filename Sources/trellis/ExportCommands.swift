import ArgumentParser
import Foundation
import TrellisBootstrap
import TrellisApplication
import TrellisDomain
import TrellisStore

/// `trellis plans`: every plan the connection may see (id, client, name), agency by agency.
struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plans", abstract: "List plans: id, client, name.")

    @OptionGroup var common: CommonOptions
    @Option(help: "only this agency (slug)") var agency: String?

    func run() async throws {
        try common.bootstrapLogging()
        let only = agency
        let lines = try await withClient(common) { database in
            let plans = PlanStore(logger: database.logger), clients = ClientStore(logger: database.logger)
            var lines: [String] = []
            for agency in try await OfflineExport.agencies(database, slug: only) {
                lines += try await database.withTenant(agency) { connection in
                    var rows: [String] = []
                    for plan in try await plans.plans(client: nil, on: connection) {
                        let client = try await clients.get(plan.clientId, on: connection)
                        rows.append("\(plan.id.lowercasedString)\t\(client.name)\t\(plan.name)")
                    }
                    return rows
                }
            }
            return lines
        }
        print("id\tclient\tname")
        for line in lines { print(line) }
    }
}

/// `trellis export --plan ID --format FORMAT [--output FILE]`: what the API's export answers, offline.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write one plan's timeline in a format.")

    @OptionGroup var common: CommonOptions
    @Option(help: "plan id (see `trellis plans`)") var plan: String
    @Option(help: "mspdi, ical, csv, svg, mermaid or json") var format: String
    @Option(help: "file to write (default: standard output)") var output: String?
    @Option(help: "compare against this saved baseline") var baseline: String?

    func run() async throws {
        try common.bootstrapLogging()
        guard let planID = UUID(uuidString: plan) else { throw ValidationError("\(plan) is not a plan id") }
        guard let format = ExportFormat(rawValue: format) else {
            throw ValidationError("unknown format \(format); one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let baseline = self.baseline
        let rendered = try await withClient(common) { database in
            let plans = PlanStore(logger: database.logger)
            for agency in try await OfflineExport.agencies(database, slug: nil) {
                let found: RenderedExport? = try await database.withTenant(agency) { connection in
                    guard (try? await plans.plan(planID, on: connection)) != nil else { return nil }
                    return try await PlanExports.render(plan: planID, format: format, baselineName: baseline, now: Date(), store: plans, on: connection)
                }
                if let found { return found }
            }
            throw ValidationError("no plan \(planID)")
        }
        if let output {
            try Data(rendered.body.utf8).write(to: URL(fileURLWithPath: output))
            FileHandle.standardError.write(Data("wrote \(output) (\(rendered.body.utf8.count) bytes, \(rendered.taskCount) tasks)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(rendered.body.utf8))
        }
    }
}

enum OfflineExport {
    static func agencies(_ database: TenantDatabase, slug: String?) async throws -> [AgencyID] {
        if let slug {
            guard let id = try await database.withSystem({ try await CredentialStore(logger: database.logger).agencyID(slug: slug, on: $0) }) else {
                throw ValidationError("no agency \(slug)")
            }
            return [id]
        }
        return try await AgencyDirectory(logger: database.logger).all(database)
    }
}
