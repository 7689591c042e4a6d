/// Figures in reason strings: thousands grouped, fixed decimals, no locale (the same text everywhere).
func formatted(_ value: Double, decimals: Int = 2) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<max(0, decimals) { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e15 else { return "\(value)" }
    let units = Int64(scaled)
    let divisor = Int64(scale)
    let whole = String(units / divisor)
    var grouped = ""
    for (i, ch) in whole.enumerated() {
        if i > 0, (whole.count - i) % 3 == 0 { grouped.append(",") }
        grouped.append(ch)
    }
    var text = (value < 0 && units != 0 ? "-" : "") + grouped
    if decimals > 0 {
        let fraction = String(units % divisor)
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return text
}

/// Up to two decimals, trailing zeros dropped: "1,000", "2.5", "0.04".
func compact(_ value: Double) -> String {
    var text = formatted(value, decimals: 2)
    guard text.contains(".") else { return text }
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}
