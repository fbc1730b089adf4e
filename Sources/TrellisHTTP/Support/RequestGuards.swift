import Foundation
import Hummingbird
import Synchronization
import TrellisDomain

/// The routes of the built router, as path patterns with their methods: the router itself answers 404 for a
/// known path with another method, and HTTP says 405 with `Allow`. Filled once, after every route is registered.
final class RouteTable: Sendable {
    enum Component: Sendable {
        case any
        case exact(Substring)
        /// `{name}` with optional fixed text around it (`{secret}.ics`).
        case capture(prefix: Substring, suffix: Substring)

        func matches(_ text: Substring) -> Bool {
            switch self {
            case .any: true
            case .exact(let fixed): text == fixed
            case .capture(let prefix, let suffix):
                text.count > prefix.count + suffix.count && text.hasPrefix(prefix) && text.hasSuffix(suffix)
            }
        }
    }

    struct Pattern: Sendable {
        var components: [Component]
        var methods: Set<String>

        func matches(_ path: [Substring]) -> Bool {
            path.count == components.count && zip(components, path).allSatisfy { $0.matches($1) }
        }
    }

    private let patterns = Mutex<[Pattern]>([])

    func fill(from routes: [Router<AppRequestContext>.RouteDescription]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path.description, default: []].insert(route.method.rawValue) }
        let patterns = byPath.map { path, methods in
            Pattern(components: path.split(separator: "/").map { component -> Component in
                if component == "*" || component == "**" { return .any }
                guard let open = component.firstIndex(of: "{"), let close = component.lastIndex(of: "}") else { return .exact(component) }
                return .capture(prefix: component[..<open], suffix: component[component.index(after: close)...])
            }, methods: methods)
        }
        self.patterns.withLock { $0 = patterns }
    }

    /// The methods a path answers, or empty when no route has this path.
    func methods(for path: String) -> [String] {
        let components = path.split(separator: "/")
        var methods = Set<String>()
        for pattern in patterns.withLock({ $0 }) where pattern.matches(components) { methods.formUnion(pattern.methods) }
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }
}

/// Checks that apply to every request before a handler sees it: text PostgreSQL cannot store (NUL) in the
/// query string, and a known path asked with a method it does not answer (405 with `Allow`).
struct RequestGuardMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var errors: [FieldError] = []
        for (name, value) in request.uri.queryParameters where name.utf8.contains(0) || value.utf8.contains(0) {
            errors.append(FieldError(String(name), "must not contain NUL characters"))
        }
        if !errors.isEmpty { throw Problem.validation(errors) }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { throw error }
            var problem = Problem(.methodNotAllowed, detail: "\(request.method.rawValue) is not allowed here; use \(allowed.joined(separator: ", "))")
            problem.allowMethods = allowed
            throw problem
        }
    }
}
