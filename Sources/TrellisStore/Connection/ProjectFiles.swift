import Foundation

/// Where the files that ship beside the binaries live: `sql/` (migrations) and `docs/` (the OpenAPI
/// contract the API serves). `TRELLIS_HOME` points at them in a deployment; in a checkout the working
/// directory or the source tree itself is used.
public enum ProjectFiles {
    public static func root(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["TRELLIS_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if FileManager.default.fileExists(atPath: cwd.appendingPathComponent("sql").path) { return cwd }
        // Sources/TrellisStore/Connection/ProjectFiles.swift → the checkout.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var sqlDirectory: URL { root().appendingPathComponent("sql") }
    public static var docsDirectory: URL { root().appendingPathComponent("docs") }
}
