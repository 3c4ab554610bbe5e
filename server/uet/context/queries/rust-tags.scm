; Rust tags for the repository map (uet.context.tags).
; A name captured as definitions of two kinds keeps the more specific (tags.KIND_PRECEDENCE).

; Definitions -------------------------------------------------------------

; Functions of an impl or trait block are methods, including the trait's signatures.
(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name.definition.method) @definition.method))

(trait_item
  body: (declaration_list
    [
      (function_item name: (identifier) @name.definition.method)
      (function_signature_item name: (identifier) @name.definition.method)
    ] @definition.method))

(function_item
  name: (identifier) @name.definition.function) @definition.function

(function_signature_item
  name: (identifier) @name.definition.function) @definition.function

(struct_item
  name: (type_identifier) @name.definition.class) @definition.class

(union_item
  name: (type_identifier) @name.definition.class) @definition.class

(enum_item
  name: (type_identifier) @name.definition.type) @definition.type

(type_item
  name: (type_identifier) @name.definition.type) @definition.type

(trait_item
  name: (type_identifier) @name.definition.interface) @definition.interface

(mod_item
  name: (identifier) @name.definition.module) @definition.module

(macro_definition
  name: (identifier) @name.definition.macro) @definition.macro

[
  (const_item name: (identifier) @name.definition.constant)
  (static_item name: (identifier) @name.definition.constant)
] @definition.constant

(field_declaration
  name: (field_identifier) @name.definition.field) @definition.field

; References --------------------------------------------------------------

(call_expression
  function: (identifier) @name.reference.call)

(call_expression
  function: (field_expression
    field: (field_identifier) @name.reference.call))

; Counter::new(), module::function()
(call_expression
  function: (scoped_identifier
    name: (identifier) @name.reference.call))

(scoped_identifier
  path: (identifier) @name.reference.module)

(generic_function
  function: (identifier) @name.reference.call)

(macro_invocation
  macro: (identifier) @name.reference.macro)

; Every use of a type by name: annotations, generics, impl blocks, struct literals.
(type_identifier) @name.reference.type

(field_expression
  field: (field_identifier) @name.reference.field)

; use crate::{Counter, Describe}; use helpers::double as twice;
(use_declaration
  argument: (scoped_identifier
    name: (identifier) @name.reference.import))

(use_list
  (identifier) @name.reference.import)

(use_list
  (scoped_identifier
    name: (identifier) @name.reference.import))

(use_as_clause
  path: (scoped_identifier
    name: (identifier) @name.reference.import))

(use_as_clause
  path: (identifier) @name.reference.import)
