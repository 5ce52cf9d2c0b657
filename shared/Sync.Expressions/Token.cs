namespace Sync.Expressions;

internal enum TokenKind
{
    End,
    Number,
    String,
    Identifier,
    QuotedIdentifier,
    Operator,
    LeftParen,
    RightParen,
    Comma,
}

/// <summary>One token; <see cref="Position"/> is 1-based. Keywords are identifiers, compared case-insensitively.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Position)
{
    public bool Is(string keyword) => Kind == TokenKind.Identifier && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public string Shown => Kind == TokenKind.End ? "the end of the expression" : $"\"{Text}\"";
}
