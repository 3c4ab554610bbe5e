; Python tags for the repository map (uet.context.tags).
; A name captured as definitions of two kinds keeps the more specific (tags.KIND_PRECEDENCE).

; Definitions -------------------------------------------------------------

; A function directly in a class body is a method (decorated or not).
(class_definition
  body: (block
    (function_definition
      name: (identifier) @name.definition.method) @definition.method))

(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name.definition.method) @definition.method)))

(function_definition
  name: (identifier) @name.definition.function) @definition.function

(class_definition
  name: (identifier) @name.definition.class) @definition.class

; A module-level or class-level name in capitals is a constant.
(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.constant) @definition.constant)
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$"))

(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name.definition.constant) @definition.constant))
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$"))

; Other module-level names: an application object, a router, a registry, a type variable.
; Dunder names (__all__, __version__) are bookkeeping, not the module's interface.
(module
  (expression_statement
    (assignment
      left: (identifier) @name.definition.variable) @definition.variable)
  (#not-match? @name.definition.variable "^_*[A-Z][A-Z0-9_]*$|^__"))

; Annotated attributes of a class body: the fields of a dataclass, a NamedTuple, a model.
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name.definition.field
        type: (type)) @definition.field))
  (#not-match? @name.definition.field "^_*[A-Z][A-Z0-9_]*$"))

; A module-level type alias (PEP 695).
(module
  (type_alias_statement
    left: (type (identifier) @name.definition.type)) @definition.type)

; References --------------------------------------------------------------

(call
  function: (identifier) @name.reference.call)

(call
  function: (attribute
    attribute: (identifier) @name.reference.call))

; Attribute reads: fields, properties, a module's members.
(attribute
  attribute: (identifier) @name.reference.field)

; Base classes and keyword arguments of a class statement (metaclass=...).
(class_definition
  superclasses: (argument_list
    (identifier) @name.reference.class))

(class_definition
  superclasses: (argument_list
    (keyword_argument
      value: (identifier) @name.reference.class)))

; Type annotations, including the arguments of generic types (list[Inventory]).
(type
  (identifier) @name.reference.type)

(generic_type
  (identifier) @name.reference.type)

; Decorators.
(decorator
  (identifier) @name.reference.call)

; Names imported from a module: from app.models import Inventory, make_inventory as mk
(import_from_statement
  name: (dotted_name
    (identifier) @name.reference.import))

(import_from_statement
  name: (aliased_import
    name: (dotted_name
      (identifier) @name.reference.import)))

; Imported modules: import app.models
(import_statement
  name: (dotted_name
    (identifier) @name.reference.module))

(import_statement
  name: (aliased_import
    name: (dotted_name
      (identifier) @name.reference.module)))

; Constants passed as defaults: def __init__(self, capacity=DEFAULT_CAPACITY). Other reads of
; a name are not captured one by one (a predicate on every identifier would double the
; query's time); the import of a name or an attribute read (module.NAME) links the files.
(default_parameter
  value: (identifier) @name.reference.constant)

(typed_default_parameter
  value: (identifier) @name.reference.constant)

; Exceptions raised or caught by name.
(raise_statement
  (identifier) @name.reference.class)

(except_clause
  (identifier) @name.reference.class)
