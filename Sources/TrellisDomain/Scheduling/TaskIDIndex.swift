/// Task id → plan index. An open-addressing table of packed (hash tag, index) words with a cheap
/// FNV-1a hash: one cache line per probe instead of the several a `[String: Int]` touches, which
/// matters once a plan has ~100k tasks and the table no longer fits in cache.
struct TaskIDIndex {
    private var slots: [UInt64]  // high 32 bits: hash tag, low 32 bits: index + 1; 0 = empty
    private let mask: Int
    private let ids: [String]

    /// Builds the index; returns the first duplicated id instead when there is one.
    static func build(_ ids: [String]) -> Result<TaskIDIndex, DuplicateID> {
        var index = TaskIDIndex(ids: ids)
        for i in ids.indices {
            if !index.insert(i) { return .failure(DuplicateID(id: ids[i])) }
        }
        return .success(index)
    }

    struct DuplicateID: Error { let id: String }

    private init(ids: [String]) {
        var capacity = 16
        while capacity < ids.count * 2 { capacity <<= 1 }
        slots = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        self.ids = ids
    }

    @inline(__always)
    private static func hash(_ id: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in id.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h ^ (h >> 29)
    }

    private mutating func insert(_ i: Int) -> Bool {
        let h = TaskIDIndex.hash(ids[i])
        let tag = h >> 32
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 {
            let word = slots[slot]
            if word >> 32 == tag && ids[Int(word & 0xFFFF_FFFF) - 1] == ids[i] { return false }
            slot = (slot + 1) & mask
        }
        slots[slot] = tag << 32 | UInt64(i + 1)
        return true
    }

    /// Indices of many ids at once (-1 for unknown ids). Two passes: first find each id's slot by hash
    /// tag alone, then confirm the strings. The iterations of each pass are independent, so the CPU can
    /// overlap their cache misses instead of taking them one after another.
    func resolve(_ keys: [String]) -> [Int] {
        var found = [Int](repeating: -1, count: keys.count)
        for k in keys.indices {
            let h = TaskIDIndex.hash(keys[k])
            let tag = h >> 32
            var slot = Int(truncatingIfNeeded: h) & mask
            while true {
                let word = slots[slot]
                if word == 0 { break }
                if word >> 32 == tag {
                    found[k] = Int(word & 0xFFFF_FFFF) - 1
                    break
                }
                slot = (slot + 1) & mask
            }
        }
        for k in keys.indices where found[k] >= 0 && ids[found[k]] != keys[k] {
            found[k] = self[keys[k]] ?? -1  // a tag collision: take the slow, exact path
        }
        return found
    }

    @inline(__always)
    subscript(id: String) -> Int? {
        let h = TaskIDIndex.hash(id)
        let tag = h >> 32
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let word = slots[slot]
            if word == 0 { return nil }
            if word >> 32 == tag {
                let i = Int(word & 0xFFFF_FFFF) - 1
                if ids[i] == id { return i }
            }
            slot = (slot + 1) & mask
        }
    }
}
