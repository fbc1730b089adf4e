import Foundation
import Testing
@testable import TrellisDomain

/// Ids are written as lowercase text by hand, and task ids ordered by their bytes: both must match Foundation's text.
struct IdentifierTextTests {
    @Test func lowercaseTextIsFoundationsLowercased() {
        var ids = (0..<2_000).map { _ in UUID() }
        ids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        ids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        ids.append(UUID(uuid: (0x0a, 0xf0, 0x9f, 0x90, 0x00, 0x01, 0x10, 0xa0, 0x5a, 0xa5, 0xc3, 0x3c, 0x7e, 0xe7, 0x0f, 0xf0)))
        for id in ids {
            #expect(id.lowercasedString == id.uuidString.lowercased())
            #expect(TaskID(id).description == id.uuidString.lowercased())
        }
    }

    @Test func taskIDsSortAsTheirText() {
        let ids = (0..<2_000).map { _ in TaskID(UUID()) }
        #expect(ids.sorted().map(\.description) == ids.map(\.description).sorted())
        let (a, b) = (ids[0], ids[1])
        #expect((a < b) == (a.description < b.description) && !(a < a))
    }
}
