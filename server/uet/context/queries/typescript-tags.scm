; TypeScript (and TSX) tags for the repository map (uet.context.tags): the type system's
; definitions and uses; what TypeScript shares with JavaScript is in ecmascript-tags.scm.

; Definitions -------------------------------------------------------------

(interface_declaration
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(enum_declaration
  name: (identifier) @name.definition.type) @definition.type

(abstract_class_declaration
  name: (type_identifier) @name.definition.class) @definition.class

[
  (method_signature name: (property_identifier) @name.definition.method)
  (abstract_method_signature name: (property_identifier) @name.definition.method)
] @definition.method

(function_signature
  name: (identifier) @name.definition.function) @definition.function

; namespace Geometry { ... }, module "x" { ... }
(internal_module
  name: (identifier) @name.definition.module) @definition.module

(module
  name: (identifier) @name.definition.module) @definition.module

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.field) @definition.field

; References --------------------------------------------------------------

; Every use of a type by name: annotations, generics, implements and extends clauses.
(type_identifier) @name.reference.type

(extends_clause
  value: (identifier) @name.reference.class)

(extends_clause
  value: (member_expression
    property: (property_identifier) @name.reference.class))

(nested_identifier
  (identifier) @name.reference.module)
