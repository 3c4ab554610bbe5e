; Tags shared by JavaScript, TypeScript and TSX for the repository map (uet.context.tags).
; Each language's query is its own file followed by this one (uet.context.languages).
; A name captured as definitions of two kinds keeps the more specific (tags.KIND_PRECEDENCE).

; Definitions -------------------------------------------------------------

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.method) @definition.method

(class_declaration
  name: (_) @name.definition.class) @definition.class

(class
  name: (_) @name.definition.class) @definition.class

[
  (function_declaration name: (identifier) @name.definition.function)
  (generator_function_declaration name: (identifier) @name.definition.function)
  (function_expression name: (identifier) @name.definition.function)
] @definition.function

; const render = () => ..., var render = function () ...
(lexical_declaration
  (variable_declarator
    name: (identifier) @name.definition.function
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(variable_declaration
  (variable_declarator
    name: (identifier) @name.definition.function
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

; exports.render = function () ..., Cart.prototype.total = () => ...
(expression_statement
  (assignment_expression
    left: [
      (identifier) @name.definition.function
      (member_expression property: (property_identifier) @name.definition.function)
    ]
    right: [(arrow_function) (function_expression)])) @definition.function

; Methods of object literals: { render() {...}, total: () => ... }
(pair
  key: (property_identifier) @name.definition.method
  value: [(arrow_function) (function_expression)]) @definition.method

; Module-level constants, exported or not.
(program
  (lexical_declaration
    kind: "const"
    (variable_declarator name: (identifier) @name.definition.constant)) @definition.constant)

(program
  (export_statement
    declaration: (lexical_declaration
      kind: "const"
      (variable_declarator name: (identifier) @name.definition.constant))) @definition.constant)

; References --------------------------------------------------------------

(call_expression
  function: (identifier) @name.reference.call)

(call_expression
  function: (member_expression
    property: [(property_identifier) (private_property_identifier)] @name.reference.call))

(new_expression
  constructor: (identifier) @name.reference.class)

(new_expression
  constructor: (member_expression
    property: (property_identifier) @name.reference.class))

; Property reads: fields, getters, a module's members.
(member_expression
  property: (property_identifier) @name.reference.field)

(import_specifier
  name: (identifier) @name.reference.import)

(export_specifier
  name: (identifier) @name.reference.import)

; CommonJS: const { formatPrice, Cart } = require("./util")
(variable_declarator
  name: (object_pattern
    [
      (shorthand_property_identifier_pattern) @name.reference.import
      (pair_pattern key: (property_identifier) @name.reference.import)
    ])
  value: (call_expression
    function: (identifier) @_require)
  (#eq? @_require "require"))
