CREATE TABLE "Model" ("id" INTEGER NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Model_pkey" PRIMARY KEY ("id"));
-- written by hand for LIKE 'prefix%' searches (civitai); the schema says @@index([name])
CREATE INDEX "Model_name_idx" ON "Model"("name" text_pattern_ops);
