/// A dictionary of venue state that remembers which keys were written since the state was last
/// saved, so that saving costs what changed, not what exists. Every write goes through the
/// subscripts (in place, without copying the value); reads never mark anything.
public struct TrackedTable<Key: Hashable & Sendable, Value: Sendable>: Sendable, Sequence {
    private(set) var storage: [Key: Value]
    /// Keys written (set, changed in place or removed) since `takeChanged()`.
    private(set) var changed: Set<Key> = []

    init(_ storage: [Key: Value] = [:]) { self.storage = storage }

    public internal(set) subscript(key: Key) -> Value? {
        get { storage[key] }
        set {
            changed.insert(key)
            storage[key] = newValue
        }
        _modify {
            changed.insert(key)
            yield &storage[key]
        }
    }

    subscript(key: Key, default value: @autoclosure () -> Value) -> Value {
        get { storage[key] ?? value() }
        set {
            changed.insert(key)
            storage[key] = newValue
        }
        _modify {
            changed.insert(key)
            yield &storage[key, default: value()]
        }
    }

    /// Changes a value without marking it: for what the venue does not keep across a restart (an
    /// order's external queue ahead, which belongs to the market of this run).
    mutating func updateUnsaved(_ key: Key, _ update: (inout Value) -> Void) {
        guard storage[key] != nil else { return }
        update(&storage[key]!)
    }

    public var keys: Dictionary<Key, Value>.Keys { storage.keys }
    public var values: Dictionary<Key, Value>.Values { storage.values }
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public func makeIterator() -> Dictionary<Key, Value>.Iterator { storage.makeIterator() }

    /// The keys written since the last call, and forgets them.
    mutating func takeChanged() -> Set<Key> {
        defer { changed.removeAll(keepingCapacity: true) }
        return changed
    }
}
