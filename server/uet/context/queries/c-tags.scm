; C tags for the repository map (uet.context.tags); C++ reads these after its own.
; A name captured as definitions of two kinds keeps the more specific (tags.KIND_PRECEDENCE).

; Definitions -------------------------------------------------------------

; Functions, defined or declared (a header's prototypes are its interface).
(function_definition
  declarator: (function_declarator
    declarator: (identifier) @name.definition.function)) @definition.function

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name.definition.function))) @definition.function

(declaration
  declarator: (function_declarator
    declarator: (identifier) @name.definition.function)) @definition.function

(declaration
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name.definition.function))) @definition.function

(struct_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(union_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(enum_specifier
  name: (type_identifier) @name.definition.type
  body: (enumerator_list)) @definition.type

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(type_definition
  declarator: (pointer_declarator
    declarator: (type_identifier) @name.definition.type)) @definition.type

(field_declaration
  declarator: (field_identifier) @name.definition.field) @definition.field

(field_declaration
  declarator: (pointer_declarator
    declarator: (field_identifier) @name.definition.field)) @definition.field

(field_declaration
  declarator: (array_declarator
    declarator: (field_identifier) @name.definition.field)) @definition.field

; #define NAME value (a bare #define NAME is an include guard or a flag, not a definition)
(preproc_def
  name: (identifier) @name.definition.constant
  value: (_)) @definition.constant

(preproc_function_def
  name: (identifier) @name.definition.macro) @definition.macro

(enumerator
  name: (identifier) @name.definition.constant) @definition.constant

; References --------------------------------------------------------------

(call_expression
  function: (identifier) @name.reference.call)

(call_expression
  function: (field_expression
    field: (field_identifier) @name.reference.call))

; Every use of a type by name (struct node, Node *head ...).
(type_identifier) @name.reference.type

(field_expression
  field: (field_identifier) @name.reference.field)

; Macros and constants read anywhere.
((identifier) @name.reference.constant
  (#match? @name.reference.constant "^_*[A-Z][A-Z0-9_]*[A-Z0-9]$"))
