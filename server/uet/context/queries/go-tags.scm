; Go tags for the repository map (uet.context.tags).
; A name captured as definitions of two kinds keeps the more specific (tags.KIND_PRECEDENCE).

; Definitions -------------------------------------------------------------

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_declaration
  name: (field_identifier) @name.definition.method) @definition.method

(type_spec
  name: (type_identifier) @name.definition.class
  type: (struct_type)) @definition.class

(type_spec
  name: (type_identifier) @name.definition.interface
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name.definition.type) @definition.type

(type_alias
  name: (type_identifier) @name.definition.type) @definition.type

; The methods an interface requires, the fields of a struct.
(method_elem
  name: (field_identifier) @name.definition.method) @definition.method

(field_declaration
  name: (field_identifier) @name.definition.field) @definition.field

(const_spec
  name: (identifier) @name.definition.constant) @definition.constant

; Package-level variables (errors, defaults, registries); a function's are local.
(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name.definition.variable) @definition.variable))

(source_file
  (var_declaration
    (var_spec_list
      (var_spec
        name: (identifier) @name.definition.variable) @definition.variable)))

; References --------------------------------------------------------------

(call_expression
  function: (identifier) @name.reference.call)

(call_expression
  function: (selector_expression
    field: (field_identifier) @name.reference.call))

; Every use of a type by name, qualified (pkg.Type) or not.
(type_identifier) @name.reference.type

; A field, method value or another package's member: r.Width, geometry.Pi
(selector_expression
  field: (field_identifier) @name.reference.field)

; Exported names used unqualified inside their package (constants, variables, functions).
((identifier) @name.reference.constant
  (#match? @name.reference.constant "^[A-Z]"))
