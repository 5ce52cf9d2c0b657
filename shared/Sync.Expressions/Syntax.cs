namespace Sync.Expressions;

/// <summary>The parsed form of an expression, before it is checked against a schema.</summary>
internal abstract record Syntax(int Position);

internal sealed record LiteralSyntax(Value Value, int Position) : Syntax(Position);

/// <summary>A literal whose text is parsed as the named type: <c>date '2024-01-31'</c>, <c>timestamptz '…'</c>.</summary>
internal sealed record TypedLiteralSyntax(string TypeName, string Text, int Position) : Syntax(Position);

internal sealed record ColumnSyntax(string Name, int Position) : Syntax(Position);

internal sealed record UnarySyntax(string Operator, Syntax Operand, int Position) : Syntax(Position);

internal sealed record BinarySyntax(string Operator, Syntax Left, Syntax Right, int Position) : Syntax(Position);

internal sealed record IsNullSyntax(Syntax Operand, bool Negated, int Position) : Syntax(Position);

internal sealed record CallSyntax(string Function, IReadOnlyList<Syntax> Arguments, int Position) : Syntax(Position);

internal sealed record CaseSyntax(IReadOnlyList<(Syntax When, Syntax Then)> Branches, Syntax? Else, int Position) : Syntax(Position);
