import Foundation

/// A Mermaid `gantt` diagram: a section per phase, tasks with explicit local start and end times
/// (Mermaid's own durations count calendar days, and explicit ends are never shifted by
/// `excludes`), `crit`, `milestone`, `done`/`active` from progress.
public struct MermaidExporter: TimelineRenderer {
    public init() {}

    public func write(_ export: TimelineExport, to w: inout ExportWriter) {
        let ctx = ExportContext(export)
        let clock = ctx.clock
        let calendar = export.plan.calendar
        w.append("gantt\n")
        w.append("    title " + Self.sanitize("\(export.planName) — \(export.clientName)") + "\n")
        w.append("    dateFormat YYYY-MM-DD HH:mm\n")
        w.append("    axisFormat %d %b\n")
        // Mermaid's marker would show the viewer's clock, not the plan's "today".
        w.append("    todayMarker off\n")
        if (calendar.weekly[.saturday] ?? []).isEmpty && (calendar.weekly[.sunday] ?? []).isEmpty {
            w.append("    excludes weekends\n")
        }
        var inLooseSection = false
        for i in ctx.order {
            guard let s = ctx.scheduled[i] else { continue }
            if ctx.isSummary[i] {
                // Mermaid has one level of sections: top-level phases; nested phases only group their tasks.
                if ctx.level[i] == 1 {
                    w.append("    section " + Self.sanitize(ctx.tasks[i].name) + "\n")
                    inLooseSection = false
                }
                continue
            }
            if ctx.level[i] == 1 && !inLooseSection {
                w.append("    section Other tasks\n")  // top-level tasks must not fall into the phase above
                inLooseSection = true
            }
            var tags = ""
            if s.isCritical { tags += "crit, " }
            if s.isMilestone { tags += "milestone, " }
            let percent = ctx.percent[i]
            if percent >= 100 { tags += "done, " } else if percent > 0 { tags += "active, " }
            w.append("    " + Self.sanitize(ctx.tasks[i].name) + " :" + tags + "t\(ctx.row[i]), ")
            clock.append(s.earlyStart, .minutes, to: &w); w.append(", "); clock.append(s.earlyFinish, .minutes, to: &w); w.append("\n")
            w.flushIfNeeded()
        }
    }

    /// Words Mermaid's gantt lexer takes as a statement when they start a line (it is case-insensitive).
    private static let keywords: Set<String> = [
        "gantt", "title", "section", "dateformat", "axisformat", "tickinterval", "excludes", "includes",
        "todaymarker", "inclusiveenddates", "topaxis", "click", "weekday", "weekend", "acctitle", "accdescr", "displaymode",
    ]

    /// A name Mermaid cannot misread: `:` separates a task's name from its data, `#` starts a comment,
    /// `;` ends a statement and `%%` starts a comment, so they become look-alikes; line breaks become
    /// spaces; a leading keyword gets a zero-width space in front.
    static func sanitize(_ name: String) -> String {
        let utf8 = name.utf8
        if let first = utf8.first, let last = utf8.last, first != 0x20, last != 0x20,
           !utf8.contains(where: { $0 < 0x20 || $0 == 0x3A || $0 == 0x23 || $0 == 0x3B || $0 == 0x25 || $0 == 0x7F }) {
            return protectKeyword(name)  // the usual case: nothing to replace
        }
        var out = ""
        out.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            switch scalar {
            case ":": out += "∶"        // U+2236 RATIO
            case "#": out += "＃"        // U+FF03
            case ";": out += "；"        // U+FF1B
            case "%": out += "％"        // U+FF05 (only %% matters; one rule is simpler)
            case "\n", "\r", "\t": out += " "
            default:
                if scalar.value >= 0x20 && scalar.value != 0x7F { out.unicodeScalars.append(scalar) }
            }
        }
        let trimmed = out.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? "Untitled" : protectKeyword(trimmed)
    }

    private static func protectKeyword(_ name: String) -> String {
        let word = name.utf8.prefix { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }  // ASCII letters
        guard word.count >= 5, word.count <= 17 else { return name }
        return keywords.contains(String(decoding: word, as: UTF8.self).lowercased()) ? "\u{200B}" + name : name
    }
}
