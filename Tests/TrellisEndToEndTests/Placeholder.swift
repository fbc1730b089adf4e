import Testing
@Test func endToEndPlaceholder() { #expect(true) }
