/// Task id → plan index. An open-addressing table of 32-bit words packing a hash tag with the index,
/// and a cheap word-at-a-time hash: one cache line per probe instead of the several a `[String: Int]`
/// touches, and a table half the size of 64-bit slots, which matters once a plan has ~100k tasks and
/// the table no longer fits in cache.
///
/// Bulk operations work in batches: hash a batch of keys, then load the first slot of every key in a
/// loop with no branch on the loaded words, so the cache misses of a batch overlap instead of each
/// waiting for the previous probe (a mispredicted probe branch would otherwise serialize them).
struct TaskIDIndex {
    private var slots: [UInt32]  // tag bits | (index + 1); 0 = empty
    private let mask: Int
    /// The low bits of a word that hold index + 1; the bits above hold the tag (at least one bit).
    private let indexMask: UInt32
    /// The ids, in plan order.
    let ids: [String]
    /// Keeps the batch loads that only warm the cache from being optimized away.
    private var warmed: UInt64 = 0

    private static let batch = 32

    /// Builds the index; returns the first duplicated id instead when there is one.
    static func build(_ ids: [String]) -> Result<TaskIDIndex, DuplicateID> {
        var index = TaskIDIndex(ids: ids)
        if let i = index.insertAll() { return .failure(DuplicateID(id: ids[i])) }
        return .success(index)
    }

    struct DuplicateID: Error { let id: String }

    private init(ids: [String]) {
        var capacity = 16
        while capacity < ids.count * 2 { capacity <<= 1 }
        slots = [UInt32](repeating: 0, count: capacity)
        mask = capacity - 1
        // Indices are Int32 elsewhere, so index + 1 fits in 31 bits and leaves a tag bit at least.
        indexMask = UInt32(truncatingIfNeeded: (1 << min(31, Int.bitWidth - ids.count.leadingZeroBitCount)) - 1)
        self.ids = ids
    }

    @inline(__always)
    private func slot(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h) & mask }

    @inline(__always)
    private func tag(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h >> 32) & ~indexMask }

    @inline(__always)
    private func index(_ word: UInt32) -> Int { Int(word & indexMask) - 1 }

    @inline(__always)
    private static func hash(_ id: String) -> UInt64 {
        // Contiguous UTF-8 (native strings, small ones included) is hashed in place; anything else is
        // copied first, so equal strings always hash alike.
        if let h = id.utf8.withContiguousStorageIfAvailable(hash(bytes:)) { return h }
        return Array(id.utf8).withUnsafeBufferPointer(hash(bytes:))
    }

    /// Eight bytes at a time (overlapping reads cover the tail), then the murmur3 finalizer. Iterating
    /// `String.utf8` byte by byte cost about 40 ns an id, the largest part of resolving the links.
    @inline(__always)
    private static func hash(bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        let raw = UnsafeRawBufferPointer(bytes)
        var h = UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
                i += 8
            }
            h ^= raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            h ^= UInt64(raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) << 32
                | UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else if n > 0 {
            h ^= UInt64(bytes[0]) << 16 | UInt64(bytes[n >> 1]) << 8 | UInt64(bytes[n - 1])
        }
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }

    /// Inserts every id in plan order; returns the index of the first id already present.
    private mutating func insertAll() -> Int? {
        let mask = self.mask, indexMask = self.indexMask  // not self: its slots are being written
        var warmed: UInt64 = 0
        let duplicate: Int? = ids.withUnsafeBufferPointer { ids in
            slots.withUnsafeMutableBufferPointer { slots in
                withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.batch) { hashes in
                    var base = 0
                    while base < ids.count {
                        let count = min(Self.batch, ids.count - base)
                        for j in 0..<count { hashes[j] = Self.hash(ids[base + j]) }
                        for j in 0..<count { warmed |= UInt64(slots[Int(truncatingIfNeeded: hashes[j]) & mask]) }
                        for j in 0..<count {
                            let i = base + j, tag = UInt32(truncatingIfNeeded: hashes[j] >> 32) & ~indexMask
                            var slot = Int(truncatingIfNeeded: hashes[j]) & mask
                            while slots[slot] != 0 {
                                let word = slots[slot]
                                if word & ~indexMask == tag && ids[Int(word & indexMask) - 1] == ids[i] { return i }
                                slot = (slot + 1) & mask
                            }
                            slots[slot] = tag | UInt32(truncatingIfNeeded: i + 1)
                        }
                        base += count
                    }
                    return nil
                }
            }
        }
        self.warmed = warmed
        return duplicate
    }

    /// Resolves both ends of every link, in order: calls `body(link, predecessor, successor)` with the
    /// plan indices (-1 for an unknown id) and stops early when it returns false.
    func resolveLinks(_ links: [TaskDependency], _ body: (Int, Int, Int) -> Bool) {
        links.withUnsafeBufferPointer { links in
            ids.withUnsafeBufferPointer { ids in
                slots.withUnsafeBufferPointer { slots in
                    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * Self.batch) { hashes in
                        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * Self.batch) { found in
                            var base = 0
                            while base < links.count {
                                let count = min(Self.batch, links.count - base)
                                for j in 0..<count {
                                    hashes[2 * j] = Self.hash(links[base + j].predecessorID)
                                    hashes[2 * j + 1] = Self.hash(links[base + j].successorID)
                                }
                                for k in 0..<(2 * count) { found[k] = Int(slots[slot(hashes[k])]) }
                                // Candidates by tag alone; the strings are compared below.
                                for k in 0..<(2 * count) {
                                    let tag = tag(hashes[k])
                                    var slot = slot(hashes[k])
                                    var word = UInt32(truncatingIfNeeded: found[k])
                                    var candidate = -1
                                    while word != 0 {
                                        if word & ~indexMask == tag {
                                            candidate = index(word)
                                            break
                                        }
                                        slot = (slot + 1) & mask
                                        word = slots[slot]
                                    }
                                    found[k] = candidate
                                }
                                // Confirm the strings in a loop of its own, so the id loads (cache misses
                                // on big plans) overlap rather than wait behind `body`.
                                for j in 0..<count {
                                    let p = found[2 * j], s = found[2 * j + 1]
                                    if p >= 0 && ids[p] != links[base + j].predecessorID {
                                        found[2 * j] = self[links[base + j].predecessorID] ?? -1  // a tag collision: the exact path
                                    }
                                    if s >= 0 && ids[s] != links[base + j].successorID {
                                        found[2 * j + 1] = self[links[base + j].successorID] ?? -1
                                    }
                                }
                                for j in 0..<count where !body(base + j, found[2 * j], found[2 * j + 1]) { return }
                                base += count
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    subscript(id: String) -> Int? {
        let h = TaskIDIndex.hash(id), tag = tag(h)
        var slot = slot(h)
        while true {
            let word = slots[slot]
            if word == 0 { return nil }
            if word & ~indexMask == tag && ids[index(word)] == id { return index(word) }
            slot = (slot + 1) & mask
        }
    }
}
