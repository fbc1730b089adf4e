import Hummingbird
import TrellisDomain

/// The one list envelope of the API: `{"items": [...], "nextCursor": "…" | null}`.
struct ListPage<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey { case items, nextCursor }

    /// The same page with each item as another type (a store row as its HTTP body).
    func map<T: Encodable & Sendable>(_ transform: (Item) -> T) -> ListPage<T> {
        ListPage<T>(items: items.map(transform), nextCursor: nextCursor)
    }

    /// `nextCursor` is always present: null on the last page.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// `limit` (1–200, 50 by default) and `cursor` of a list whose rows the store reads whole (an agency's
/// members, roles, webhooks: tens, not millions). The cursor is the position after the last row shown,
/// written as digits, so any such value is a valid cursor; past the end is an empty page.
struct ListWindow: Sendable {
    var offset: Int
    var limit: Int

    init(_ request: Request) throws {
        var errors = FieldErrors()
        limit = pageLimit(request, errors: &errors)
        offset = 0
        if let raw = request.query("cursor") {
            if raw.count <= 9, !raw.isEmpty, raw.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(raw) { offset = n } else {
                errors.add("cursor", "must be digits, as nextCursor gives them")
            }
        }
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
    }

    func page<Item: Encodable & Sendable>(_ all: [Item]) -> ListPage<Item> {
        guard offset < all.count else { return ListPage(items: [], nextCursor: nil) }
        let end = min(all.count, offset + limit)
        return ListPage(items: Array(all[offset..<end]), nextCursor: end < all.count ? String(end) : nil)
    }
}

/// `limit` of any list: 1–200, 50 when absent; anything else is named in `errors`.
func pageLimit(_ request: Request, errors: inout FieldErrors) -> Int {
    guard let raw = request.query("limit") else { return 50 }
    guard let limit = plainInteger(raw), (1...200).contains(limit) else {
        errors.add("limit", "must be a whole number from 1 to 200")
        return 50
    }
    return limit
}

/// A whole number written plainly (`12`, `-3`): what JSON Schema's integer means in a query string; `+5`,
/// ` 5` or `5.0` are not.
func plainInteger(_ raw: String) -> Int? {
    let digits = raw.hasPrefix("-") ? raw.dropFirst() : Substring(raw)
    guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(raw)
}
