import Bus
import Schema
import Testing

private func key(_ source: String, _ instance: String, _ sequence: UInt64) -> EnvelopeHeaderKey {
    EnvelopeHeaderKey(source: source, instance: instance, sequence: sequence)
}

@Suite("SequenceTracker")
struct SequenceTrackerTests {
    @Test("the first message from a source is first contact, whatever its sequence")
    func firstContact() {
        var tracker = SequenceTracker()
        #expect(tracker.observe(key("feed", "a", 1)) == .firstContact)
        var late = SequenceTracker()
        // A subscriber that joins late sees a high sequence first: still not a gap.
        #expect(late.observe(key("feed", "a", 500)) == .firstContact)
        #expect(late.observe(key("feed", "a", 501)) == .inOrder)
    }

    @Test("consecutive sequences are in order")
    func inOrder() {
        var tracker = SequenceTracker()
        _ = tracker.observe(key("feed", "a", 1))
        for sequence in UInt64(2)...50 {
            #expect(tracker.observe(key("feed", "a", sequence)) == .inOrder)
        }
    }

    @Test("a jump is a gap that says how many are missing, and tracking resumes after it")
    func gap() {
        var tracker = SequenceTracker()
        _ = tracker.observe(key("feed", "a", 1))
        _ = tracker.observe(key("feed", "a", 2))
        let observation = tracker.observe(key("feed", "a", 7))
        #expect(observation == .gap(SequenceGap(source: "feed", instance: "a", after: 2, received: 7)))
        if case .gap(let gap) = observation {
            #expect(gap.missing == 4)
        }
        #expect(tracker.observe(key("feed", "a", 8)) == .inOrder)
        // A gap of exactly one.
        #expect(
            tracker.observe(key("feed", "a", 10))
                == .gap(SequenceGap(source: "feed", instance: "a", after: 8, received: 10)))
        #expect(SequenceGap(source: "feed", instance: "a", after: 8, received: 10).missing == 1)
    }

    @Test("a new instance of a known source is a restart, not a gap, and is then tracked on its own")
    func restart() {
        var tracker = SequenceTracker()
        _ = tracker.observe(key("feed", "old", 1))
        _ = tracker.observe(key("feed", "old", 2))
        _ = tracker.observe(key("feed", "old", 3))
        #expect(
            tracker.observe(key("feed", "new", 1))
                == .restart(
                    PublisherRestart(
                        source: "feed", previousInstance: "old", instance: "new", lastSequence: 3, firstSequence: 1)))
        #expect(tracker.observe(key("feed", "new", 2)) == .inOrder)
        // The new instance's numbering is its own: a jump within it is a gap after 2.
        #expect(
            tracker.observe(key("feed", "new", 4))
                == .gap(SequenceGap(source: "feed", instance: "new", after: 2, received: 4)))
    }

    @Test("a restart seen late (first sequence above 1) is still a restart, not a gap")
    func lateRestart() {
        var tracker = SequenceTracker()
        _ = tracker.observe(key("feed", "old", 40))
        let observation = tracker.observe(key("feed", "new", 9))
        #expect(
            observation
                == .restart(
                    PublisherRestart(
                        source: "feed", previousInstance: "old", instance: "new", lastSequence: 40, firstSequence: 9)))
        #expect(tracker.observe(key("feed", "new", 10)) == .inOrder)
    }

    @Test("a duplicate or older sequence is stale and does not move the tracker back")
    func stale() {
        var tracker = SequenceTracker()
        _ = tracker.observe(key("feed", "a", 1))
        _ = tracker.observe(key("feed", "a", 2))
        _ = tracker.observe(key("feed", "a", 3))
        #expect(tracker.observe(key("feed", "a", 3)) == .stale(last: 3, received: 3))
        #expect(tracker.observe(key("feed", "a", 1)) == .stale(last: 3, received: 1))
        // Had the stale message reset the tracker, 4 would be a gap or 2 in order.
        #expect(tracker.observe(key("feed", "a", 4)) == .inOrder)
        #expect(tracker.observe(key("feed", "a", 2)) == .stale(last: 4, received: 2))
    }

    @Test("sources are tracked independently, even with the same instance id")
    func severalSources() {
        var tracker = SequenceTracker()
        #expect(tracker.observe(key("feed", "x", 1)) == .firstContact)
        #expect(tracker.observe(key("risk", "x", 10)) == .firstContact)
        #expect(tracker.observe(key("exec", "y", 1)) == .firstContact)
        #expect(tracker.observe(key("feed", "x", 2)) == .inOrder)
        #expect(tracker.observe(key("risk", "x", 11)) == .inOrder)
        // A gap in one source...
        #expect(
            tracker.observe(key("feed", "x", 5))
                == .gap(SequenceGap(source: "feed", instance: "x", after: 2, received: 5)))
        // ...is not seen by the others.
        #expect(tracker.observe(key("risk", "x", 12)) == .inOrder)
        #expect(tracker.observe(key("exec", "y", 2)) == .inOrder)
        // A restart of one is not a restart of the others.
        #expect(
            tracker.observe(key("exec", "z", 1))
                == .restart(
                    PublisherRestart(
                        source: "exec", previousInstance: "y", instance: "z", lastSequence: 2, firstSequence: 1)))
        #expect(tracker.observe(key("feed", "x", 6)) == .inOrder)
        #expect(tracker.observe(key("risk", "x", 13)) == .inOrder)
    }
}

@Suite("TopicFilter")
struct TopicFilterTests {
    private func matches(_ filter: TopicFilter, _ topic: String) -> Bool { filter.matches(Array(topic.utf8)) }

    @Test("an empty prefix matches every topic, including the empty one")
    func emptyMatchesAll() {
        let filter = TopicFilter([""])
        for topic in ["md.book.BTC", "exec.fill.ETH", "svc.hb.risk-gate", "", "x"] {
            #expect(matches(filter, topic), "\(topic)")
        }
    }

    @Test("prefixes select families and only them")
    func prefixes() {
        let filter = TopicFilter(["md.bar.", "exec.fill"])
        #expect(matches(filter, "md.bar.BTC"))
        #expect(matches(filter, "md.bar.ETH"))
        #expect(matches(filter, "exec.fill"))
        #expect(matches(filter, "exec.fill.BTC"))
        #expect(!matches(filter, "md.book.BTC"))
        #expect(!matches(filter, "md.bar"))  // shorter than the prefix
        #expect(!matches(filter, "exec.ack.BTC"))
        #expect(!matches(filter, "xmd.bar.BTC"))  // a prefix, not a substring
        #expect(!matches(filter, ""))
    }

    @Test("prefix matching is by bytes and case-sensitive")
    func caseSensitive() {
        let filter = TopicFilter(["md.bar.BTC"])
        #expect(matches(filter, "md.bar.BTC"))
        #expect(matches(filter, "md.bar.BTCUSD"))
        #expect(!matches(filter, "md.bar.btc"))
        #expect(!matches(filter, "MD.BAR.BTC"))
    }

    @Test("no prefixes match nothing")
    func noPrefixes() {
        let filter = TopicFilter([])
        #expect(!matches(filter, "md.bar.BTC"))
        #expect(!matches(filter, ""))
    }
}
