; C++ tags for the repository map (uet.context.tags): classes, namespaces and methods; C's
; patterns (c-tags.scm) follow these in the C++ query, and a name captured here as a method
; and there as a function stays a method (tags.KIND_PRECEDENCE).

; Definitions -------------------------------------------------------------

; Methods declared in a class body: double area() const; explicit Polygon(int sides);
(field_declaration
  declarator: (function_declarator
    declarator: [(field_identifier) (identifier) (destructor_name) (operator_name)] @name.definition.method)) @definition.method

(field_declaration_list
  (declaration
    declarator: (function_declarator
      declarator: [(identifier) (destructor_name)] @name.definition.method)) @definition.method)

; Methods defined in a class body, or outside it by their qualified name: Polygon::area
(field_declaration_list
  (function_definition
    declarator: (function_declarator
      declarator: [(field_identifier) (identifier) (destructor_name) (operator_name)] @name.definition.method)) @definition.method)

(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      name: [(identifier) (destructor_name) (operator_name)] @name.definition.method))) @definition.method

(function_definition
  declarator: (reference_declarator
    (function_declarator
      declarator: (qualified_identifier
        name: [(identifier) (operator_name)] @name.definition.method)))) @definition.method

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (qualified_identifier
        name: [(identifier) (operator_name)] @name.definition.method)))) @definition.method

(class_specifier
  name: (type_identifier) @name.definition.class
  body: (field_declaration_list)) @definition.class

(namespace_definition
  name: (namespace_identifier) @name.definition.module) @definition.module

(alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(concept_definition
  name: (identifier) @name.definition.type) @definition.type

; References --------------------------------------------------------------

; Polygon::area, std::vector: the scope is a use of the class or namespace.
(qualified_identifier
  scope: (namespace_identifier) @name.reference.module)

(call_expression
  function: (qualified_identifier
    name: (identifier) @name.reference.call))

(template_function
  name: (identifier) @name.reference.call)

(new_expression
  type: (type_identifier) @name.reference.class)

(base_class_clause
  (type_identifier) @name.reference.class)
