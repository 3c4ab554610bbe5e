; JSX tags (JavaScript and TSX) for the repository map (uet.context.tags).

; Components used in JSX (lower-case names are HTML elements).
((jsx_opening_element
  name: (identifier) @name.reference.class)
  (#match? @name.reference.class "^[A-Z]"))

((jsx_self_closing_element
  name: (identifier) @name.reference.class)
  (#match? @name.reference.class "^[A-Z]"))
