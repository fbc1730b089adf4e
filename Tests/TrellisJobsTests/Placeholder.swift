import Testing
@Test func jobsPlaceholder() { #expect(true) }
