/// Keccak-256 as used by Ethereum: original Keccak padding (0x01), not FIPS-202 SHA3 (0x06).
public struct Keccak256: Sendable {
    private static let rate = 136
    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    private static let rotations: [UInt64] = [
        1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
    ]
    private static let piLanes: [Int] = [
        10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
    ]

    private var state = [UInt64](repeating: 0, count: 25)
    private var buffer: [UInt8] = []

    public init() { buffer.reserveCapacity(Self.rate) }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        for b in bytes {
            buffer.append(b)
            if buffer.count == Self.rate { absorbBuffer() }
        }
    }

    public consuming func finalize() -> [UInt8] {
        buffer.append(0x01)
        while buffer.count < Self.rate { buffer.append(0) }
        buffer[Self.rate - 1] |= 0x80
        absorbBuffer()
        var out = [UInt8]()
        out.reserveCapacity(32)
        for lane in state[0..<4] {
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: lane >> (8 * UInt64(i)))) }
        }
        return out
    }

    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var k = Keccak256()
        k.update(bytes)
        return k.finalize()
    }

    public static func hash(_ text: String) -> [UInt8] { hash(Array(text.utf8)) }

    private mutating func absorbBuffer() {
        buffer.withUnsafeBufferPointer { buf in
            state.withUnsafeMutableBufferPointer { st in
                for i in 0..<(Self.rate / 8) {
                    var lane: UInt64 = 0
                    for j in 0..<8 { lane |= UInt64(buf[i * 8 + j]) << (8 * UInt64(j)) }
                    st[i] ^= lane
                }
                Self.permute(st)
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 - n)) }

    private static func permute(_ st: UnsafeMutableBufferPointer<UInt64>) {
        var bc = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for round in 0..<24 {
            // theta
            bc.0 = st[0] ^ st[5] ^ st[10] ^ st[15] ^ st[20]
            bc.1 = st[1] ^ st[6] ^ st[11] ^ st[16] ^ st[21]
            bc.2 = st[2] ^ st[7] ^ st[12] ^ st[17] ^ st[22]
            bc.3 = st[3] ^ st[8] ^ st[13] ^ st[18] ^ st[23]
            bc.4 = st[4] ^ st[9] ^ st[14] ^ st[19] ^ st[24]
            let d0 = bc.4 ^ rotl(bc.1, 1)
            let d1 = bc.0 ^ rotl(bc.2, 1)
            let d2 = bc.1 ^ rotl(bc.3, 1)
            let d3 = bc.2 ^ rotl(bc.4, 1)
            let d4 = bc.3 ^ rotl(bc.0, 1)
            var j = 0
            while j < 25 {
                st[j] ^= d0; st[j + 1] ^= d1; st[j + 2] ^= d2; st[j + 3] ^= d3; st[j + 4] ^= d4
                j += 5
            }
            // rho + pi
            var t = st[1]
            for i in 0..<24 {
                let lane = piLanes[i]
                let tmp = st[lane]
                st[lane] = rotl(t, rotations[i])
                t = tmp
            }
            // chi
            j = 0
            while j < 25 {
                let a0 = st[j], a1 = st[j + 1], a2 = st[j + 2], a3 = st[j + 3], a4 = st[j + 4]
                st[j] = a0 ^ (~a1 & a2)
                st[j + 1] = a1 ^ (~a2 & a3)
                st[j + 2] = a2 ^ (~a3 & a4)
                st[j + 3] = a3 ^ (~a4 & a0)
                st[j + 4] = a4 ^ (~a0 & a1)
                j += 5
            }
            // iota
            st[0] ^= roundConstants[round]
        }
    }
}
