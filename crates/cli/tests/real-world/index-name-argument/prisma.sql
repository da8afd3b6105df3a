-- CreateIndex
CREATE INDEX "documentId_index" ON "Favorite"("documentId");

