import Testing
@testable import TrellisHTTP

/// Markup written in Swift (the plan page's task rows) escapes text as the templates do.
@Suite("Web markup written in Swift")
struct WebMarkupTests {
    @Test func textIsEscapedAndPlainTextIsLeftAlone() {
        #expect(HTML.escape(#"<b>"x" & 'y'</b>"#) == "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;")
        #expect(HTML.escape("Café — naïve") == "Café — naïve")
    }

    @Test func aTaskNamedLikeMarkupStaysText() {
        let row = WebRoutes.PlanView.Row(
            id: "t1", name: #"<script>alert("x")</script>"#, depth: 1, isPhase: false, isMilestone: false, critical: true,
            negativeSlack: false, duration: "1 d", start: "Mon 2 Mar 09:00", finish: "Mon 2 Mar 14:00", slack: "0 d",
            assignee: "Ana <Lima>", progress: 40, editHref: "/plans/p/tasks/t1", moved: false)
        let html = WebRoutes.taskRows([row], canEdit: true)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        #expect(html.contains("Ana &lt;Lima&gt;"))
        #expect(html.contains(#"class="badge critical""#))
    }
}
