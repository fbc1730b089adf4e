import Foundation
import Logging
import TrellisStore

/// Row-level security is the backstop that keeps agencies apart; it does nothing for a superuser, a BYPASSRLS
/// role or the owner of the tenant tables (the owner could drop their policies). The queue's table belongs to the
/// worker's role on purpose (see sql/0008), so only the owner of a tenant table — one with forced row-level
/// security — is refused. Every long-running executable checks the role it connects as before it
/// serves anything, and refuses to start as one of those.
public enum DatabaseRoleGuard {
    public enum Verdict: Equatable, Sendable {
        case allowed
        case refused(String)
        /// The server could not be asked (down, or not yet up): the caller retries.
        case unreachable(String)
    }

    static let question = """
        SELECT current_user, r.rolsuper, r.rolbypassrls,
               (SELECT string_agg(DISTINCT c.relname, ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relforcerowsecurity
                  AND pg_has_role(current_user, c.relowner, 'USAGE'))
        FROM pg_roles r WHERE r.rolname = current_user
        """

    public static func verdict(conninfo: String) -> Verdict {
        let rows: [[String?]]
        do {
            rows = try LibPQConnection(conninfo: conninfo).execute(question)
        } catch {
            return .unreachable("\(error)")
        }
        guard let row = rows.first, row.count == 4 else { return .unreachable("could not read the current role") }
        let role = row[0] ?? "?"
        if row[1] == "t" {
            return .refused("the database role \(role) is a superuser, which bypasses row-level security; connect as a role that holds trellis_api or trellis_worker (see docs/operations.md)")
        }
        if row[2] == "t" {
            return .refused("the database role \(role) has BYPASSRLS, which bypasses row-level security; connect as a role without it")
        }
        if let owned = row[3], !owned.isEmpty {
            let sample = owned.split(separator: ",").prefix(3).joined(separator: ",")
            return .refused("the database role \(role) owns tenant tables (\(sample)…); the owner is the migrator's role, the services must connect as another")
        }
        return .allowed
    }

    /// Checks once now; when the database cannot be reached yet, keeps checking in the background and ends the
    /// process if the role turns out to be refused. Throws (so the executable exits) on a refused role.
    public static func enforce(conninfo: String, logger: Logger) throws {
        switch verdict(conninfo: conninfo) {
        case .allowed:
            return
        case .refused(let reason):
            throw RefusedRole(reason: reason)
        case .unreachable(let reason):
            logger.warning("cannot check the database role yet; will check when the database answers", metadata: ["error": "\(reason)"])
            Thread.detachNewThread {
                while true {
                    Thread.sleep(forTimeInterval: 2)
                    switch verdict(conninfo: conninfo) {
                    case .allowed: return
                    case .unreachable: continue
                    case .refused(let reason):
                        logger.critical("refusing to run: \(reason)")
                        exit(78)  // EX_CONFIG
                    }
                }
            }
        }
    }

    public struct RefusedRole: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "refusing to start: \(reason)" }
    }
}
