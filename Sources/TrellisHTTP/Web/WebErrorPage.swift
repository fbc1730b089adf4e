import Foundation

/// Which paths are the web app's pages (HTML, sign-in by form, errors as pages) rather than the JSON API's.
enum WebPaths {
    static func isPage(_ path: String) -> Bool {
        !(path.hasPrefix("/v1/") || path == "/v1" || path.hasPrefix("/feeds/") || path == "/openapi.yaml" || path == "/healthz"
            || path == "/readyz" || path == "/metrics")
    }
}

/// An error on a web page, as a page: what happened and where to go, never a stack or a JSON body.
enum WebErrorPage {
    static func html(_ problem: Problem) -> String {
        let (title, advice): (String, String) = switch problem.statusCode {
        case 404: ("Not found", "This page does not exist, or it is not yours to see.")
        case 403: ("Not allowed", problem.detail ?? "Your role may not do this.")
        case 401: ("Signed out", "Your session has ended. Sign in again.")
        case 409: ("Changed meanwhile", problem.detail ?? "Someone changed this while you were working on it.")
        case 422: ("Check what you entered", problem.detail ?? "Some of what you entered is not valid.")
        case 429: ("Slow down", problem.detail ?? "Too many requests; try again in a minute.")
        case 503: ("Unavailable", "Trellis cannot reach its database right now. Try again in a moment.")
        default: ("Something went wrong", "The error was logged. Try again, or go back to Today.")
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Trellis</title><link rel="stylesheet" href="/static/app.css"></head>
            <body><main id="main"><section class="signin"><h1>\(escape(title))</h1><p>\(escape(advice))</p>
            <p><a class="button primary" href="/today">Go to Today</a></p></section></main></body></html>
            """
    }

    static func escape(_ text: String) -> String { HTML.escape(text) }
}

/// Text into HTML: what the templates do for `{{…}}`, for markup written in Swift.
enum HTML {
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
