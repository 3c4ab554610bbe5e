; Java tags for the repository map (uet.context.tags).

; Definitions -------------------------------------------------------------

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(record_declaration
  name: (identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(annotation_type_declaration
  name: (identifier) @name.definition.interface) @definition.interface

(enum_declaration
  name: (identifier) @name.definition.type) @definition.type

(method_declaration
  name: (identifier) @name.definition.method) @definition.method

(constructor_declaration
  name: (identifier) @name.definition.method) @definition.method

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name.definition.field)) @definition.field

(constant_declaration
  declarator: (variable_declarator
    name: (identifier) @name.definition.constant)) @definition.constant

; References --------------------------------------------------------------

(method_invocation
  name: (identifier) @name.reference.call)

(object_creation_expression
  type: (type_identifier) @name.reference.class)

; Every use of a type by name: declarations, generics, extends and implements clauses.
(type_identifier) @name.reference.type

(field_access
  field: (identifier) @name.reference.field)

(method_reference
  (identifier) @name.reference.call)

; import shop.Billing; import static shop.Shop.MAX_ORDERS;
(import_declaration
  (scoped_identifier
    name: (identifier) @name.reference.import))

(marker_annotation
  name: (identifier) @name.reference.class)

(annotation
  name: (identifier) @name.reference.class)
